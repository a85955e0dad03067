"""Demo accounts for the demo hospital: one per role, with their scopes."""
from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

import pandas as pd

from .passwords import password_problem
from .store import AppDB

FILE = "demo-users.txt"


def _password(username: str, display_name: str) -> str:
    """A random password the policy accepts for this account."""
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(14))
        if password_problem(pw, username, display_name) is None:
            return pw


# The demo's service lines (专科线) as a Chinese display name reads them: a display name is what a
# hospital would type for a person, in one language; the header shows the role in the page's own.
LINE_ZH = {"cardiac": "心血管", "digestive": "消化", "ent_eye_oral": "五官", "neuro": "神经", "orthopedics": "骨科",
           "other": "综合", "rehabilitation": "康复", "women_children": "妇儿"}


def demo_accounts(depts: pd.DataFrame) -> list[dict]:
    """Accounts for the demo hospital: admin, hospital leader, a campus leader, a director per
    clinical department, and assistants per service line (at most 9 departments each)."""
    out = [
        {"username": "admin", "display_name": "系统管理员", "role": "admin", "scope_kind": "none", "ids": []},
        {"username": "leader", "display_name": "院长", "role": "leader", "scope_kind": "hospital",
         "ids": []},
    ]
    campuses = sorted(depts["campus_id"].unique())
    if len(campuses) > 1:
        c = campuses[1]
        name = depts.loc[depts["campus_id"] == c, "campus_zh"].iloc[0] if "campus_zh" in depts else c
        out.append({"username": f"leader.{c.lower()}", "display_name": f"{name}院长",
                    "role": "leader", "scope_kind": "campus", "ids": [c]})
    clinical = depts[depts["kind"] == "clinical"].sort_values("dept_id")
    for _, d in clinical.iterrows():
        out.append({"username": f"director.{d['dept_id'].lower()}", "display_name": f"{d['name_zh']}主任",
                    "role": "director", "scope_kind": "departments", "ids": [d["dept_id"]]})
    for line, group in clinical.groupby("service_line", sort=True):
        ids = list(group["dept_id"])
        chunks = [ids[i:i + 9] for i in range(0, len(ids), 9)]
        for k, chunk in enumerate(chunks, 1):
            suffix = f".{k}" if len(chunks) > 1 else ""
            number = k if len(chunks) > 1 else ""
            out.append({"username": f"assistant.{line}{suffix}", "display_name": f"{LINE_ZH.get(line, line)}专科运营助理{number}",
                        "role": "assistant", "scope_kind": "departments", "ids": chunk})
    return out


def ensure_demo_users(db: AppDB, depts: pd.DataFrame, data_dir: Path) -> list[tuple[str, str, str]]:
    """Create the demo accounts when the application database has no users yet.

    Returns (username, password, role) of the accounts created (empty when there were users);
    writes them to data/demo-users.txt, readable by the owner only.
    """
    if db.list_users():
        return []
    created = []
    for acc in demo_accounts(depts):
        pw = _password(acc["username"], acc["display_name"])
        db.create_user(acc["username"], acc["display_name"], pw, acc["role"], acc["scope_kind"], acc["ids"],
                       is_demo=True)
        created.append((acc["username"], pw, acc["role"]))
    leader = db.get_by_username("leader")
    kiosk = []
    if leader is not None:  # a wall display for the demo: open this address, no password asked
        _kid, token = db.issue_kiosk(leader.id, "demo wall", None)
        kiosk = ["", "# Wall display (kiosk login for 'leader'): open this address on the wall's browser",
                 f"kiosk\t/kiosk/{token}"]
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE
    lines = ["# Demo accounts (demo warehouse only). Change or delete them before real use.",
             "# username\tpassword\trole"] + ["\t".join(c) for c in created] + kiosk
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return created
