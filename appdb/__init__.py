"""The application's own database: users, their role and scope, login history, audit log.

Writable, unlike the warehouse; its schema is managed by Alembic migrations
(`appdb/migrations`), applied on start so an upgrade never loses data.
"""
