"""The demo hospital's building blocks: departments, DRG groups, devices, budget items, names."""
from __future__ import annotations

from typing import NamedTuple


class ClinicalDept(NamedTuple):
    key: str
    zh: str
    en: str
    service_line: str
    division: str
    beds: int  # open beds at scale 1 on the main campus
    op_share: float  # share of the hospital's outpatient visits at scale 1
    mdcs: str  # major diagnostic categories the department treats (first is main)
    er_share: float = 0.02  # share of its visits that are emergency visits
    op_charge: float = 380.0  # average outpatient charge per visit, yuan
    cost_factor: float = 1.0  # >1 runs a structural loss (paediatrics, emergency…)


# Interleaved by service line so that a small scale still covers every line.
CLINICAL: tuple[ClinicalDept, ...] = (
    ClinicalDept("ortho_spine", "脊柱外科", "Spine Surgery", "orthopedics", "surgical", 70, 0.012, "I"),
    ClinicalDept("gastro", "消化内科", "Gastroenterology", "digestive", "medical", 80, 0.035, "GH", op_charge=420),
    ClinicalDept("neuro_med", "神经内科", "Neurology", "neuro", "medical", 90, 0.03, "B", er_share=0.05),
    ClinicalDept("cardio", "心血管内科", "Cardiology", "cardiac", "medical", 110, 0.04, "F", er_share=0.06),
    ClinicalDept("ophth", "眼科", "Ophthalmology", "ent_eye_oral", "surgical", 50, 0.045, "C", op_charge=330),
    ClinicalDept("obstetrics", "产科", "Obstetrics", "women_children", "surgical", 70, 0.025, "O", cost_factor=1.08),
    ClinicalDept("rehab", "康复医学科", "Rehabilitation Medicine", "rehabilitation", "medical", 60, 0.015, "XI", cost_factor=1.06),
    ClinicalDept("respiratory", "呼吸与危重症医学科", "Respiratory & Critical Care", "other", "medical", 90, 0.045, "E", er_share=0.05),
    ClinicalDept("ortho_joint", "关节外科", "Joint Surgery", "orthopedics", "surgical", 60, 0.012, "I"),
    ClinicalDept("gi_surgery", "胃肠外科", "Gastrointestinal Surgery", "digestive", "surgical", 70, 0.012, "G"),
    ClinicalDept("neurosurgery", "神经外科", "Neurosurgery", "neuro", "surgical", 70, 0.01, "BV", er_share=0.06),
    ClinicalDept("cardiac_surgery", "心脏大血管外科", "Cardiac & Great Vessel Surgery", "cardiac", "surgical", 45, 0.005, "F"),
    ClinicalDept("ent", "耳鼻咽喉头颈外科", "Otolaryngology–Head & Neck Surgery", "ent_eye_oral", "surgical", 45, 0.035, "D"),
    ClinicalDept("gynecology", "妇科", "Gynaecology", "women_children", "surgical", 60, 0.04, "N"),
    ClinicalDept("geriatrics", "老年医学科", "Geriatrics", "rehabilitation", "medical", 50, 0.012, "EFK"),
    ClinicalDept("nephrology", "肾内科", "Nephrology", "other", "medical", 50, 0.02, "L"),
    ClinicalDept("ortho_trauma", "创伤骨科", "Orthopaedic Trauma", "orthopedics", "surgical", 60, 0.012, "IZ", er_share=0.1),
    ClinicalDept("hepatobiliary", "肝胆外科", "Hepatobiliary Surgery", "digestive", "surgical", 60, 0.01, "H"),
    ClinicalDept("psychiatry", "精神心理科", "Psychiatry & Psychology", "neuro", "medical", 30, 0.025, "T", op_charge=300, cost_factor=1.05),
    ClinicalDept("vascular", "血管外科", "Vascular Surgery", "cardiac", "surgical", 35, 0.006, "F"),
    ClinicalDept("stomatology", "口腔科", "Stomatology", "ent_eye_oral", "surgical", 15, 0.04, "D", op_charge=450),
    ClinicalDept("pediatrics", "儿科", "Paediatrics", "women_children", "medical", 70, 0.07, "ES", er_share=0.2, op_charge=260, cost_factor=1.12),
    ClinicalDept("tcm", "中医科", "Traditional Chinese Medicine", "rehabilitation", "medical", 30, 0.035, "X", op_charge=320),
    ClinicalDept("endocrine", "内分泌科", "Endocrinology", "other", "medical", 50, 0.035, "K"),
    ClinicalDept("sports_med", "运动医学科", "Sports Medicine", "orthopedics", "surgical", 35, 0.01, "I"),
    ClinicalDept("colorectal", "肛肠外科", "Colorectal Surgery", "digestive", "surgical", 35, 0.01, "G"),
    ClinicalDept("thoracic", "胸外科", "Thoracic Surgery", "cardiac", "surgical", 50, 0.008, "E"),
    ClinicalDept("head_neck", "头颈外科", "Head & Neck Surgery", "ent_eye_oral", "surgical", 30, 0.008, "DJ"),
    ClinicalDept("neonatology", "新生儿科", "Neonatology", "women_children", "medical", 40, 0.003, "P", cost_factor=1.15),
    ClinicalDept("pain", "疼痛科", "Pain Medicine", "rehabilitation", "medical", 25, 0.01, "I"),
    ClinicalDept("hematology", "血液内科", "Haematology", "other", "medical", 55, 0.012, "QR"),
    ClinicalDept("hand_foot", "手足外科", "Hand & Foot Surgery", "orthopedics", "surgical", 30, 0.006, "IV"),
    ClinicalDept("reproductive", "生殖医学科", "Reproductive Medicine", "women_children", "medical", 0, 0.02, "N", op_charge=900),
    ClinicalDept("oncology", "肿瘤内科", "Medical Oncology", "other", "medical", 80, 0.025, "R"),
    ClinicalDept("radiation_onc", "放射治疗科", "Radiation Oncology", "other", "medical", 40, 0.008, "R"),
    ClinicalDept("rheumatology", "风湿免疫科", "Rheumatology & Immunology", "other", "medical", 35, 0.018, "IJ"),
    ClinicalDept("infectious", "感染性疾病科", "Infectious Diseases", "other", "medical", 45, 0.02, "SH", er_share=0.05, cost_factor=1.1),
    ClinicalDept("dermatology", "皮肤科", "Dermatology", "other", "medical", 15, 0.05, "J", op_charge=280),
    ClinicalDept("emergency", "急诊科", "Emergency Medicine", "other", "medical", 40, 0.09, "VZF", er_share=0.95, cost_factor=1.12),
    ClinicalDept("icu", "重症医学科", "Critical Care Medicine", "other", "medical", 40, 0.0, "AE", cost_factor=1.1),
    ClinicalDept("urology", "泌尿外科", "Urology", "other", "surgical", 60, 0.025, "LM"),
    ClinicalDept("breast_thyroid", "甲状腺乳腺外科", "Thyroid & Breast Surgery", "other", "surgical", 50, 0.02, "JK"),
    ClinicalDept("general_surgery", "普通外科", "General Surgery", "other", "surgical", 60, 0.02, "GH"),
    ClinicalDept("burns_plastic", "烧伤整形科", "Burns & Plastic Surgery", "other", "surgical", 30, 0.008, "W"),
    ClinicalDept("general_practice", "全科医学科", "General Practice", "other", "medical", 30, 0.05, "EFK", op_charge=250),
)

# Departments copied to the east campus and the new campus at scale 1 (beds factor).
EAST = ("cardio", "respiratory", "gastro", "neuro_med", "ortho_trauma", "general_surgery",
        "obstetrics", "pediatrics", "emergency", "endocrine", "urology", "icu", "gynecology")
NEW = ("general_practice", "rehab", "emergency", "geriatrics", "respiratory", "ortho_joint")


class SupportDept(NamedTuple):
    key: str
    zh: str
    en: str
    kind: str  # medtech, support or admin
    campuses: int  # on how many campuses (1 = main only, 2 = main + east, 3 = all)
    staff: int  # FTE at scale 1 on the main campus
    area: int  # floor area m2 at scale 1


SUPPORT: tuple[SupportDept, ...] = (
    SupportDept("radiology", "放射科", "Radiology", "medtech", 3, 120, 4200),
    SupportDept("ultrasound", "超声医学科", "Ultrasound Medicine", "medtech", 3, 60, 1500),
    SupportDept("laboratory", "检验科", "Laboratory Medicine", "medtech", 3, 110, 2600),
    SupportDept("pathology", "病理科", "Pathology", "medtech", 1, 45, 1400),
    SupportDept("nuclear", "核医学科", "Nuclear Medicine", "medtech", 1, 30, 1600),
    SupportDept("endoscopy", "内镜中心", "Endoscopy Centre", "medtech", 2, 45, 1200),
    SupportDept("anesthesia", "麻醉科", "Anaesthesiology", "medtech", 3, 110, 3000),
    SupportDept("pharmacy", "药学部", "Pharmacy", "medtech", 3, 90, 2400),
    SupportDept("sterile", "消毒供应中心", "Central Sterile Supply", "support", 2, 50, 1500),
    SupportDept("logistics", "后勤保障部", "Logistics & Facilities", "support", 3, 140, 3500),
    SupportDept("it", "信息中心", "Information Centre", "support", 1, 40, 800),
    SupportDept("equipment_dept", "医学装备部", "Medical Equipment Department", "support", 1, 35, 900),
    SupportDept("president_office", "院长办公室", "President's Office", "admin", 3, 25, 900),
    SupportDept("medical_affairs", "医务部", "Medical Affairs", "admin", 1, 30, 700),
    SupportDept("nursing_dept", "护理部", "Nursing Department", "admin", 1, 15, 400),
    SupportDept("finance", "财务部", "Finance", "admin", 1, 40, 800),
    SupportDept("hr", "人力资源部", "Human Resources", "admin", 1, 25, 500),
    SupportDept("operations", "运营管理部", "Operations Management", "admin", 1, 20, 400),
)

CAMPUSES = (
    ("C1", "本部院区", "Main Campus", "1952-10-01"),
    ("C2", "东院区", "East Campus", "2009-06-18"),
    ("C3", "滨江新院区", "Riverside New Campus", "2019-12-28"),
)

# MDC letter -> (zh, en) of the category.
MDC = {
    "A": ("先期分组疾病及相关操作", "Pre-MDC"), "B": ("神经系统疾病", "Nervous system"),
    "C": ("眼疾病", "Eye"), "D": ("头颈、耳、鼻、口、咽疾病", "Ear, nose, mouth and throat"),
    "E": ("呼吸系统疾病", "Respiratory system"), "F": ("循环系统疾病", "Circulatory system"),
    "G": ("消化系统疾病", "Digestive system"), "H": ("肝、胆、胰疾病", "Hepatobiliary system and pancreas"),
    "I": ("肌肉、骨骼疾病", "Musculoskeletal system"), "J": ("皮肤、皮下组织及乳腺疾病", "Skin, subcutaneous tissue and breast"),
    "K": ("内分泌、营养、代谢疾病", "Endocrine, nutritional and metabolic"), "L": ("肾脏及泌尿系统疾病", "Kidney and urinary tract"),
    "M": ("男性生殖系统疾病", "Male reproductive system"), "N": ("女性生殖系统疾病", "Female reproductive system"),
    "O": ("妊娠、分娩及产褥期", "Pregnancy and childbirth"), "P": ("新生儿及其他围产期疾病", "Newborns and neonatal conditions"),
    "Q": ("血液、造血器官及免疫疾病", "Blood and immunological disorders"), "R": ("骨髓增生疾病及功能障碍", "Myeloproliferative disorders and neoplasms"),
    "S": ("感染及寄生虫病", "Infectious and parasitic diseases"), "T": ("精神疾病及功能障碍", "Mental diseases and disorders"),
    "V": ("创伤、中毒及药物毒性反应", "Injuries, poisonings and toxic effects"), "W": ("烧伤", "Burns"),
    "X": ("影响健康因素及其他就医情况", "Factors influencing health status"), "Z": ("多发严重创伤", "Multiple significant trauma"),
}

# ADRG: (code, zh, en, base weight, reference LOS days, surgical). Type letter A-J surgical,
# K-Q non-operative procedure, R-Z medical; split by severity 1 (severe complications),
# 3 (complications), 5 (none) or 9 (not split).
ADRG: tuple[tuple[str, str, str, float, float, bool], ...] = (
    ("AH1", "气管切开伴呼吸机支持≥96小时", "Tracheostomy with ventilation ≥96 h", 9.5, 28.0, True),
    ("AB1", "肝移植", "Liver transplant", 18.0, 30.0, True),
    ("BB1", "脑血管介入治疗", "Cerebrovascular intervention", 3.1, 11.0, True),
    ("BB2", "开颅手术", "Craniotomy", 4.2, 16.0, True),
    ("BR2", "脑缺血性疾患", "Cerebral ischaemic disorders", 1.05, 10.0, False),
    ("BU2", "神经系统变性疾患", "Degenerative nervous system disorders", 0.95, 11.0, False),
    ("BX2", "癫痫病", "Epilepsy", 0.75, 7.5, False),
    ("CB3", "晶体手术", "Lens procedures", 0.55, 2.5, True),
    ("CB1", "视网膜手术", "Retinal procedures", 0.95, 5.0, True),
    ("CZ1", "其他眼部疾患", "Other eye disorders", 0.45, 5.0, False),
    ("DC1", "鼻腔、鼻窦手术", "Nasal and sinus procedures", 0.85, 6.0, True),
    ("DD2", "扁桃体和腺样体切除手术", "Tonsil and adenoid procedures", 0.6, 4.0, True),
    ("DZ1", "头颈、耳、鼻、咽、口非手术治疗", "ENT and mouth, non-surgical", 0.5, 5.5, False),
    ("EB1", "肺大手术", "Major lung procedures", 3.0, 12.0, True),
    ("ES2", "呼吸系统感染/炎症", "Respiratory infections and inflammation", 0.95, 8.5, False),
    ("ES3", "肺炎", "Pneumonia", 0.85, 8.0, False),
    ("ET2", "慢性阻塞性肺疾病", "Chronic obstructive pulmonary disease", 0.9, 9.0, False),
    ("ER1", "呼吸系统肿瘤", "Respiratory neoplasms", 1.1, 9.0, False),
    ("FB2", "心脏瓣膜手术", "Cardiac valve procedures", 6.2, 18.0, True),
    ("FF3", "外周动脉血管手术", "Peripheral artery procedures", 2.4, 10.0, True),
    ("FL1", "经皮心脏消融术", "Percutaneous cardiac ablation", 2.9, 5.0, True),
    ("FM1", "经皮冠状动脉支架植入", "Percutaneous coronary stent insertion", 2.5, 6.0, True),
    ("FR2", "心力衰竭、休克", "Heart failure and shock", 1.0, 9.0, False),
    ("FR4", "心绞痛", "Angina pectoris", 0.7, 6.5, False),
    ("FT2", "高血压", "Hypertension", 0.55, 7.0, False),
    ("GB1", "小肠、大肠、直肠的大手术", "Major small and large bowel procedures", 3.2, 15.0, True),
    ("GC2", "阑尾切除术", "Appendicectomy", 0.9, 5.5, True),
    ("GD2", "疝修补术", "Hernia procedures", 0.8, 4.5, True),
    ("GK1", "胃镜治疗操作", "Therapeutic gastroscopy", 0.8, 5.0, False),
    ("GS1", "胃肠出血", "Gastrointestinal haemorrhage", 0.85, 7.5, False),
    ("GZ1", "其他消化系统诊断", "Other digestive diagnoses", 0.6, 6.5, False),
    ("HB1", "胰、肝切除和/或分流手术", "Pancreas and liver resection or shunt", 4.8, 17.0, True),
    ("HC3", "腹腔镜下胆囊切除术", "Laparoscopic cholecystectomy", 1.0, 5.5, True),
    ("HS2", "肝硬化", "Cirrhosis", 1.05, 10.0, False),
    ("HZ3", "胰腺疾患", "Pancreatic disorders", 0.95, 9.5, False),
    ("IB2", "脊柱融合手术", "Spinal fusion", 3.6, 12.0, True),
    ("IC2", "髋、肩、膝、肘和踝关节置换术", "Hip, shoulder, knee, elbow and ankle replacement", 3.0, 10.5, True),
    ("ID1", "骨折内固定手术", "Internal fixation of fractures", 1.9, 10.0, True),
    ("IE1", "关节镜手术", "Arthroscopic procedures", 1.1, 5.0, True),
    ("IU2", "颈腰椎疾患", "Cervical and lumbar spine disorders", 0.6, 9.0, False),
    ("IS2", "骨折、扭伤、脱位", "Fractures, sprains and dislocations", 0.7, 8.0, False),
    ("IT2", "慢性炎症性肌肉骨骼结缔组织疾患", "Chronic inflammatory connective tissue disorders", 0.85, 9.0, False),
    ("JA1", "乳房恶性肿瘤根治手术", "Radical breast cancer surgery", 1.8, 9.0, True),
    ("JB1", "甲状腺手术", "Thyroid procedures", 1.2, 5.0, True),
    ("JS1", "重大皮肤疾患", "Major skin disorders", 0.65, 9.0, False),
    ("KS1", "糖尿病", "Diabetes", 0.7, 8.5, False),
    ("KT1", "内分泌疾患", "Endocrine disorders", 0.6, 7.0, False),
    ("LA1", "肾、输尿管及膀胱恶性肿瘤手术", "Kidney, ureter and bladder cancer procedures", 2.8, 11.0, True),
    ("LC1", "输尿管镜碎石术", "Ureteroscopic lithotripsy", 1.0, 5.0, True),
    ("LR1", "肾衰竭", "Renal failure", 1.2, 11.0, False),
    ("LS1", "肾及尿路感染", "Kidney and urinary tract infections", 0.6, 7.0, False),
    ("MA1", "前列腺手术", "Prostate procedures", 1.4, 7.5, True),
    ("NA2", "女性生殖器官恶性肿瘤手术", "Female reproductive cancer surgery", 2.4, 11.0, True),
    ("NC1", "子宫、附件手术", "Uterine and adnexal procedures", 1.1, 6.0, True),
    ("NZ1", "女性生殖系统其他疾患", "Other female reproductive disorders", 0.4, 4.5, False),
    ("OB1", "剖宫产术", "Caesarean section", 0.95, 5.0, True),
    ("OC1", "阴道分娩伴手术操作", "Vaginal delivery with procedures", 0.6, 3.5, True),
    ("OR1", "阴道分娩", "Vaginal delivery", 0.5, 3.0, False),
    ("PS1", "早产儿", "Premature neonates", 2.2, 18.0, False),
    ("PU1", "新生儿黄疸", "Neonatal jaundice", 0.45, 5.5, False),
    ("QS1", "贫血及其他血液疾患", "Anaemia and other blood disorders", 0.8, 8.0, False),
    ("RA1", "淋巴瘤、白血病伴大手术", "Lymphoma or leukaemia with major procedure", 4.5, 20.0, True),
    ("RE1", "恶性增生性疾患的化学治疗", "Chemotherapy for malignancy", 0.75, 5.0, False),
    ("RD1", "恶性增生性疾患的放射治疗", "Radiotherapy for malignancy", 1.7, 22.0, False),
    ("RS1", "急性白血病", "Acute leukaemia", 2.0, 18.0, False),
    ("SR1", "败血症", "Septicaemia", 1.6, 12.0, False),
    ("ST1", "病毒性疾患", "Viral illness", 0.55, 7.0, False),
    ("TS1", "抑郁症", "Depression", 0.9, 20.0, False),
    ("TR1", "精神分裂症", "Schizophrenia", 1.0, 30.0, False),
    ("VR1", "中毒及药物毒性反应", "Poisoning and toxic effects of drugs", 0.5, 4.5, False),
    ("VJ1", "损伤的其他手术", "Other procedures for injuries", 1.3, 8.0, True),
    ("WJ1", "烧伤伴植皮", "Burns with skin graft", 2.6, 20.0, True),
    ("WR1", "烧伤不伴手术", "Burns without procedure", 0.9, 12.0, False),
    ("XR1", "康复", "Rehabilitation", 1.1, 21.0, False),
    ("XS1", "随访（不含恶性肿瘤诊断）", "Follow-up (no malignancy)", 0.35, 4.0, False),
    ("ZB1", "多发严重创伤伴手术", "Multiple significant trauma with procedures", 5.0, 18.0, True),
)

SEVERITY = {"1": ("伴严重并发症或合并症", "with major complications", 1.45, 1.35),
            "3": ("伴一般并发症或合并症", "with complications", 1.12, 1.1),
            "5": ("不伴并发症或合并症", "without complications", 0.88, 0.9),
            "9": ("", "", 1.0, 1.0)}

# category -> (zh, en, price range million yuan, daily capacity, minutes per exam,
#              charge per exam, service life years, home department)
EQUIPMENT = {
    "CT": ("CT", "CT scanner", (6, 14), 220, 6, 320, 6, "radiology"),
    "MRI": ("磁共振", "MRI scanner", (14, 28), 70, 25, 680, 8, "radiology"),
    "DSA": ("DSA血管造影机", "DSA angiography system", (9, 18), 14, 90, 9000, 8, "radiology"),
    "PET_CT": ("PET-CT", "PET-CT", (28, 38), 22, 35, 7800, 10, "nuclear"),
    "LINAC": ("直线加速器", "Linear accelerator", (20, 34), 60, 12, 1600, 10, "radiation_onc"),
    "DR": ("DR数字X线机", "Digital radiography", (1, 2.5), 260, 3, 110, 6, "radiology"),
    "ULTRASOUND": ("彩色超声诊断仪", "Colour Doppler ultrasound", (0.8, 2.5), 90, 12, 210, 6, "ultrasound"),
    "ENDOSCOPY": ("电子内镜系统", "Video endoscopy system", (1.5, 3.5), 38, 25, 650, 6, "endoscopy"),
}
# devices per category at scale 1 (40 in all)
EQUIPMENT_COUNT = {"CT": 7, "MRI": 5, "DSA": 4, "PET_CT": 1, "LINAC": 2, "DR": 8, "ULTRASOUND": 8, "ENDOSCOPY": 5}

BUDGET_ITEMS = (
    ("B01", "人员经费", "Personnel expenses", "personnel"),
    ("B02", "药品费", "Drugs", "drugs_materials"),
    ("B03", "卫生材料费", "Medical consumables", "drugs_materials"),
    ("B04", "专用设备购置", "Medical equipment purchase", "equipment"),
    ("B05", "设备维修维护费", "Equipment maintenance", "equipment"),
    ("B06", "水电能耗费", "Utilities and energy", "operations"),
    ("B07", "办公及印刷费", "Office and printing", "operations"),
    ("B08", "差旅费", "Travel", "operations"),
    ("B09", "培训进修费", "Training and continuing education", "operations"),
    ("B10", "科研经费", "Research funds", "research"),
    ("B11", "房屋修缮费", "Building repair", "infrastructure"),
)

SURNAMES = (("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
            ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
            ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("林", "Lin"),
            ("罗", "Luo"), ("高", "Gao"), ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"),
            ("唐", "Tang"), ("许", "Xu"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"),
            ("彭", "Peng"), ("曾", "Zeng"), ("沈", "Shen"), ("叶", "Ye"), ("程", "Cheng"), ("蒋", "Jiang"))
GIVEN = (("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"),
         ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"),
         ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"), ("霞", "Xia"),
         ("平", "Ping"), ("刚", "Gang"), ("桂英", "Guiying"), ("建华", "Jianhua"), ("志强", "Zhiqiang"),
         ("海燕", "Haiyan"), ("晓东", "Xiaodong"), ("文博", "Wenbo"), ("思远", "Siyuan"), ("雨萱", "Yuxuan"),
         ("子涵", "Zihan"), ("浩然", "Haoran"), ("欣怡", "Xinyi"), ("宇航", "Yuhang"), ("婧", "Jing"),
         ("晨", "Chen"), ("亮", "Liang"), ("慧", "Hui"), ("颖", "Ying"), ("斌", "Bin"), ("鹏", "Peng"),
         ("琳", "Lin"), ("立新", "Lixin"), ("国庆", "Guoqing"), ("卫东", "Weidong"), ("红梅", "Hongmei"))


class DeviceType(NamedTuple):
    """A kind of large device the demo registers beyond the first imaging fleet (EQUIPMENT)."""
    key: str
    category: str  # the contract's dim_equipment.category
    zh: str
    en: str
    homes: tuple[tuple[str, tuple[int, int, int]], ...]  # (department key, devices on main / east / new campus)
    price: tuple[float, float]  # purchase price range, million yuan
    capacity: float  # exams or treatments per working day at full use
    slots: int  # most it can do in one calendar day (0: no hard limit, e.g. analysers, scanners)
    minutes: float  # minutes of use per exam or treatment
    charge: float  # yuan charged per exam or treatment
    life: int  # service life, years
    maintenance: tuple[float, float]  # annual maintenance as a share of the price
    use: tuple[float, float]  # utilisation it runs at (exams / capacity of working days)
    weekend: float  # use on a weekend or holiday, as a share of a working day's


# The rest of a tertiary hospital's large equipment, by the department that operates it. Round-the-clock
# devices (ventilators, ECMO, CRRT) count ventilated / treated patient-days: a capacity of 1.4 per working
# day is one patient every calendar day (≈ 365 / 250 working days), so a device busy all year reads ~100 %.
DEVICE_TYPES: tuple[DeviceType, ...] = (
    # laboratory, pathology, radiology, nuclear medicine, radiotherapy (medical-technical departments)
    DeviceType("chem_analyser", "OTHER", "全自动生化分析仪", "Automated chemistry analyser",
               (("laboratory", (2, 1, 1)),), (1.8, 3.2), 2400, 0, 0.25, 8, 8, (0.05, 0.08), (0.7, 0.95), 0.45),
    DeviceType("immuno_analyser", "OTHER", "化学发光免疫分析仪", "Chemiluminescence immunoassay analyser",
               (("laboratory", (2, 1, 0)),), (1.2, 2.2), 800, 0, 0.6, 45, 8, (0.05, 0.08), (0.6, 0.95), 0.35),
    DeviceType("haem_line", "OTHER", "血细胞分析流水线", "Haematology analyser line",
               (("laboratory", (1, 1, 0)),), (2.5, 4.0), 1500, 0, 0.35, 20, 8, (0.05, 0.08), (0.75, 1.02), 0.5),
    DeviceType("sequencer", "OTHER", "高通量基因测序仪", "High-throughput gene sequencer",
               (("laboratory", (1, 0, 0)),), (3.0, 5.0), 24, 0, 40, 1500, 8, (0.08, 0.12), (0.2, 0.45), 0.0),
    DeviceType("slide_scanner", "OTHER", "数字病理切片扫描仪", "Digital pathology slide scanner",
               (("pathology", (1, 0, 0)),), (1.5, 2.5), 300, 0, 1.5, 60, 8, (0.05, 0.08), (0.3, 0.6), 0.0),
    DeviceType("mammography", "OTHER", "乳腺X线摄影系统", "Digital mammography system",
               (("radiology", (1, 1, 0)),), (2.5, 4.5), 45, 0, 10, 240, 6, (0.06, 0.09), (0.35, 0.6), 0.1),
    DeviceType("spect_ct", "OTHER", "SPECT/CT", "SPECT/CT",
               (("nuclear", (1, 0, 0)),), (8.0, 14.0), 24, 0, 30, 900, 8, (0.06, 0.09), (0.45, 0.72), 0.0),
    DeviceType("ct_sim", "CT", "模拟定位CT", "CT simulator",
               (("radiation_onc", (1, 0, 0)),), (5.0, 8.0), 30, 0, 20, 900, 8, (0.06, 0.09), (0.55, 0.82), 0.0),
    DeviceType("afterloader", "OTHER", "后装治疗机", "HDR brachytherapy afterloader",
               (("radiation_onc", (1, 0, 0)),), (4.0, 7.0), 10, 10, 45, 1500, 10, (0.05, 0.08), (0.3, 0.55), 0.0),
    # operating theatres: anaesthesia machines belong to anaesthesiology
    DeviceType("anaesthesia", "OTHER", "麻醉工作站", "Anaesthesia workstation",
               (("anesthesia", (12, 5, 2)),), (0.35, 0.6), 4, 4, 150, 240, 8, (0.03, 0.05), (0.6, 0.92), 0.15),
    # cardiology, emergency, critical care
    DeviceType("dsa_cardiac", "DSA", "心血管造影系统（DSA）", "Cardiovascular angiography system (DSA)",
               (("cardio", (2, 1, 0)),), (9.0, 16.0), 10, 0, 75, 8000, 8, (0.07, 0.1), (0.85, 1.08), 0.2),
    DeviceType("echo", "ULTRASOUND", "心脏彩色超声诊断仪", "Cardiac colour Doppler ultrasound",
               (("cardio", (2, 1, 0)),), (1.5, 3.0), 45, 0, 20, 300, 6, (0.05, 0.08), (0.7, 0.98), 0.1),
    DeviceType("er_ct", "CT", "急诊CT", "Emergency CT scanner",
               (("emergency", (1, 1, 1)),), (5.0, 9.0), 150, 0, 6, 320, 6, (0.07, 0.1), (0.7, 1.05), 0.95),
    DeviceType("ventilator", "OTHER", "有创呼吸机", "Invasive ventilator",
               (("icu", (8, 4, 0)), ("respiratory", (3, 2, 1))), (0.38, 0.6), 1.4, 1, 1320, 330, 6,
               (0.03, 0.06), (0.6, 1.02), 1.0),
    DeviceType("ecmo", "OTHER", "体外膜肺氧合（ECMO）", "Extracorporeal membrane oxygenation (ECMO)",
               (("icu", (2, 0, 0)),), (1.6, 2.4), 1.4, 1, 1380, 4500, 8, (0.05, 0.08), (0.12, 0.4), 1.0),
    DeviceType("crrt", "OTHER", "连续性血液净化机（CRRT）", "Continuous renal replacement therapy (CRRT)",
               (("icu", (3, 1, 0)),), (0.6, 0.9), 1.4, 1, 1080, 2200, 6, (0.04, 0.07), (0.45, 0.85), 1.0),
    DeviceType("bedside_us", "ULTRASOUND", "床旁超声诊断仪", "Bedside ultrasound",
               (("icu", (1, 1, 0)), ("emergency", (1, 0, 0))), (0.6, 1.0), 20, 0, 15, 180, 6, (0.04, 0.07),
               (0.4, 0.75), 0.8),
    DeviceType("dialysis", "OTHER", "血液透析机", "Haemodialysis machine",
               (("nephrology", (12, 6, 0)),), (0.22, 0.32), 3, 3, 240, 420, 6, (0.04, 0.06), (0.75, 1.0), 0.85),
    # surgical departments
    DeviceType("robot", "OTHER", "腔镜手术机器人", "Endoscopic surgical robot",
               (("urology", (1, 0, 0)), ("thoracic", (1, 0, 0))), (18.0, 28.0), 4, 4, 180, 24000, 8,
               (0.08, 0.11), (0.45, 1.0), 0.05),
    DeviceType("ortho_robot", "OTHER", "骨科手术机器人", "Orthopaedic surgical robot",
               (("ortho_spine", (1, 0, 0)),), (8.0, 12.0), 3, 3, 150, 8000, 8, (0.07, 0.1), (0.2, 0.45), 0.0),
    DeviceType("c_arm", "OTHER", "移动式C形臂X线机", "Mobile C-arm X-ray system",
               (("ortho_spine", (1, 0, 0)), ("ortho_joint", (1, 0, 0)), ("ortho_trauma", (2, 1, 0)),
                ("hand_foot", (1, 0, 0)), ("urology", (1, 0, 0)), ("pain", (1, 0, 0))),
               (0.8, 2.5), 8, 8, 45, 300, 6, (0.05, 0.08), (0.45, 0.88), 0.1),
    DeviceType("laparoscope", "ENDOSCOPY", "腹腔镜系统", "Laparoscopy tower",
               (("gi_surgery", (2, 0, 0)), ("hepatobiliary", (2, 0, 0)), ("gynecology", (2, 1, 0)),
                ("general_surgery", (2, 1, 0)), ("urology", (1, 0, 0)), ("colorectal", (1, 0, 0)),
                ("breast_thyroid", (1, 0, 0))), (1.5, 3.0), 5, 5, 120, 1200, 6, (0.05, 0.08), (0.55, 0.95), 0.05),
    DeviceType("thoracoscope", "ENDOSCOPY", "胸腔镜系统", "Thoracoscopy tower",
               (("thoracic", (2, 0, 0)),), (1.5, 3.0), 5, 5, 120, 1200, 6, (0.05, 0.08), (0.55, 0.95), 0.05),
    DeviceType("arthroscope", "ENDOSCOPY", "关节镜系统", "Arthroscopy tower",
               (("sports_med", (2, 0, 0)), ("ortho_joint", (1, 0, 0))), (1.0, 2.0), 6, 6, 90, 900, 6,
               (0.05, 0.08), (0.5, 0.9), 0.05),
    DeviceType("microscope", "OTHER", "手术显微镜", "Operating microscope",
               (("neurosurgery", (2, 1, 0)), ("hand_foot", (1, 0, 0)), ("ent", (1, 0, 0))), (1.5, 4.0), 4, 4,
               180, 800, 8, (0.04, 0.07), (0.5, 0.9), 0.05),
    DeviceType("navigation", "OTHER", "神经外科导航系统", "Neurosurgical navigation system",
               (("neurosurgery", (1, 0, 0)),), (3.0, 5.0), 3, 3, 180, 2500, 8, (0.06, 0.09), (0.15, 0.4), 0.0),
    DeviceType("heart_lung", "OTHER", "体外循环机", "Heart-lung machine",
               (("cardiac_surgery", (2, 0, 0)),), (1.5, 2.5), 2, 2, 240, 5000, 8, (0.05, 0.08), (0.5, 0.85), 0.05),
    DeviceType("holmium", "OTHER", "钬激光治疗机", "Holmium laser system",
               (("urology", (1, 0, 0)),), (1.2, 2.0), 6, 6, 60, 2000, 8, (0.05, 0.08), (0.6, 0.92), 0.0),
    DeviceType("eswl", "OTHER", "体外冲击波碎石机", "Extracorporeal shock-wave lithotripter",
               (("urology", (1, 1, 0)),), (1.5, 2.5), 12, 12, 40, 1100, 8, (0.05, 0.08), (0.35, 0.6), 0.0),
    # endoscopy in the clinical departments, ophthalmology, obstetrics, stomatology, dermatology
    DeviceType("eus", "ENDOSCOPY", "超声内镜系统", "Endoscopic ultrasound system",
               (("gastro", (1, 0, 0)),), (3.0, 5.0), 10, 10, 45, 1500, 6, (0.06, 0.09), (0.5, 0.85), 0.0),
    DeviceType("bronchoscope", "ENDOSCOPY", "电子支气管镜系统", "Video bronchoscopy system",
               (("respiratory", (1, 1, 0)),), (1.0, 2.0), 12, 12, 30, 700, 6, (0.05, 0.08), (0.55, 0.9), 0.05),
    DeviceType("hysteroscope", "ENDOSCOPY", "宫腔镜系统", "Hysteroscopy system",
               (("gynecology", (1, 0, 0)),), (0.8, 1.5), 10, 10, 30, 800, 6, (0.05, 0.08), (0.5, 0.85), 0.0),
    DeviceType("oct", "OTHER", "眼科光学相干断层扫描仪（OCT）", "Ophthalmic optical coherence tomography (OCT)",
               (("ophth", (2, 0, 0)),), (0.8, 1.5), 60, 0, 10, 220, 6, (0.05, 0.08), (0.8, 1.05), 0.1),
    DeviceType("phaco", "OTHER", "白内障超声乳化仪", "Phacoemulsification system",
               (("ophth", (2, 0, 0)),), (1.0, 2.0), 12, 12, 30, 1500, 8, (0.05, 0.08), (0.7, 1.0), 0.05),
    DeviceType("femto", "OTHER", "飞秒激光治疗仪", "Femtosecond laser system",
               (("ophth", (1, 0, 0)),), (8.0, 12.0), 12, 12, 25, 8000, 8, (0.07, 0.1), (0.35, 0.7), 0.3),
    DeviceType("obs_us", "ULTRASOUND", "妇产科彩色超声诊断仪", "Obstetric colour Doppler ultrasound",
               (("obstetrics", (1, 1, 0)),), (1.0, 2.5), 60, 0, 12, 220, 6, (0.05, 0.08), (0.75, 1.02), 0.15),
    DeviceType("cbct", "CT", "口腔锥形束CT", "Dental cone-beam CT",
               (("stomatology", (1, 0, 0)),), (0.8, 1.5), 40, 0, 8, 300, 6, (0.05, 0.08), (0.5, 0.82), 0.2),
    DeviceType("derm_laser", "OTHER", "皮肤激光治疗仪", "Dermatology laser system",
               (("dermatology", (1, 0, 0)),), (1.0, 2.0), 20, 20, 20, 500, 6, (0.05, 0.08), (0.3, 0.6), 0.2),
    # neonatal ventilation, the vascular hybrid suite, neurophysiology, reproductive medicine, rehabilitation
    DeviceType("neo_ventilator", "OTHER", "新生儿呼吸机", "Neonatal ventilator",
               (("neonatology", (4, 0, 0)),), (0.3, 0.5), 1.4, 1, 1320, 300, 6, (0.03, 0.06), (0.55, 0.95), 1.0),
    DeviceType("dsa_hybrid", "DSA", "杂交手术室血管造影系统（DSA）", "Hybrid operating room angiography (DSA)",
               (("vascular", (1, 0, 0)),), (12.0, 18.0), 6, 6, 150, 9000, 8, (0.07, 0.1), (0.5, 0.85), 0.1),
    DeviceType("video_eeg", "OTHER", "视频脑电图仪", "Video EEG system",
               (("neuro_med", (1, 1, 0)),), (0.5, 0.9), 6, 6, 120, 400, 6, (0.04, 0.07), (0.6, 0.95), 0.1),
    DeviceType("repro_us", "ULTRASOUND", "生殖超声诊断仪", "Reproductive ultrasound",
               (("reproductive", (2, 0, 0)),), (0.8, 1.6), 60, 0, 10, 160, 6, (0.05, 0.08), (0.75, 1.02), 0.6),
    DeviceType("rehab_robot", "OTHER", "下肢康复机器人", "Lower-limb rehabilitation robot",
               (("rehab", (1, 0, 1)),), (1.0, 2.0), 12, 12, 40, 180, 8, (0.05, 0.08), (0.35, 0.75), 0.2),
)


# ---------------------------------------------------------------------------------------------------
# Contract version 2: payment reform (DIP) and the national appraisal of tertiary public hospitals (国考).
# The rates and their sources are in docs/demo-hospital.md, "Contract version 2".

# The campus whose insurance pool (统筹区) pays by DIP, and when it switched: the East Campus lies in a
# neighbouring city's pool, which moved from DRG to DIP on 1 January of the year before the latest year.
DIP_CAMPUS = "C2"
DIP_SWITCH_YEARS_BACK = 1
# DIP packets: a DRG group with at least this many DIP cases becomes a core packet (核心病种, the national
# technical specification's threshold of 15 cases); the rest go to a comprehensive packet (综合病种) per
# major diagnostic category and surgical / non-surgical.
DIP_CORE_MIN_CASES = 15
# Opening monthly point-value estimates (点值, yuan per point) per insurance fund in the first DIP year;
# the employees' fund (职工医保) is richer than the residents' (城乡居民医保).
DIP_POINT_VALUE = {"employee": 13.2, "resident": 11.6}
DIP_FUND_MIX = {"employee": 0.36, "resident": 0.46}  # the case mix of the two funds (as the cases are drawn)
DIP_HOSPITAL_COEFFICIENT = 1.08  # 医院系数 of a tertiary A hospital

# Share of surgical cases that are planned admissions for the operation (择期手术), by ADRG; the default
# is ELECTIVE_DEFAULT. Emergencies: appendicitis, fractures, trauma, burns, primary PCI, caesarean in labour.
ELECTIVE_DEFAULT = 0.88
# Day surgery (日间手术) is drawn only in the procedure groups hospitals run as day cases (the national
# recommended day-surgery list: cataract and retinal surgery, nasal and sinus surgery, tonsils, hernia,
# laparoscopic cholecystectomy, arthroscopy, ureteroscopic lithotripsy, hysteroscopy and adnexal
# surgery); never for deliveries, caesarean sections, appendicectomy (an emergency) or fracture fixation.
# A group "with complications" (code ending in 3) is a day case at this fraction of the rate, one "with
# major complications" (ending in 1) never.
DAY_SURGERY_ADRG = frozenset({"CB1", "CB3", "DC1", "DD2", "GD2", "HC3", "IE1", "LC1", "NC1"})
DAY_SURGERY_WITH_CC = 0.3

ELECTIVE_SHARE = {"AH1": 0.05, "AB1": 0.6, "BB1": 0.55, "BB2": 0.5, "FM1": 0.6, "GC2": 0.15, "ID1": 0.3,
                  "OB1": 0.55, "OC1": 0.1, "RA1": 0.8, "VJ1": 0.2, "WJ1": 0.3, "ZB1": 0.05}
# Share of surgical cases whose main operation is minimally invasive (微创手术: endoscopic, laparoscopic,
# thoracoscopic, arthroscopic, interventional, phacoemulsification), by ADRG; the default is MI_DEFAULT.
MI_DEFAULT = 0.08
MINIMALLY_INVASIVE_SHARE = {
    "AH1": 0.0, "AB1": 0.0, "BB1": 1.0, "BB2": 0.1, "CB3": 0.8, "CB1": 0.5, "DC1": 0.85, "DD2": 0.3,
    "EB1": 0.6, "FB2": 0.1, "FF3": 0.6, "FL1": 1.0, "FM1": 1.0, "GB1": 0.45, "GC2": 0.7, "GD2": 0.5,
    "HB1": 0.2, "HC3": 0.95, "IB2": 0.2, "IC2": 0.0, "ID1": 0.1, "IE1": 1.0, "JA1": 0.05, "JB1": 0.15,
    "LA1": 0.5, "LC1": 1.0, "MA1": 0.8, "NA2": 0.4, "NC1": 0.6, "OB1": 0.0, "OC1": 0.0, "RA1": 0.1,
    "VJ1": 0.1, "WJ1": 0.0, "ZB1": 0.0}
# Unplanned readmission within 31 days (非计划再入院) per discharge, by department key; the default is
# READMISSION_DEFAULT. Chronic and cancer departments return more, obstetrics and eye surgery rarely.
READMISSION_DEFAULT = 0.015
READMISSION_RATE = {"oncology": 0.03, "hematology": 0.032, "radiation_onc": 0.028, "nephrology": 0.026,
                    "cardio": 0.024, "respiratory": 0.024, "geriatrics": 0.026, "icu": 0.025, "neuro_med": 0.02,
                    "hepatobiliary": 0.022, "gi_surgery": 0.02, "cardiac_surgery": 0.022, "gastro": 0.02,
                    "infectious": 0.02, "obstetrics": 0.004, "ophth": 0.006, "stomatology": 0.005,
                    "ent": 0.008, "gynecology": 0.008, "breast_thyroid": 0.008, "psychiatry": 0.018,
                    "rehab": 0.012, "neonatology": 0.012}
# DRG risk grade (病例组合死亡风险分级): ADRGs whose cases are never low risk, and those always high risk.
HIGH_RISK_ADRG = ("AH1", "AB1", "SR1", "RS1", "PS1", "ZB1", "RA1", "HB1", "FB2")
NOT_LOW_RISK_ADRG = ("BR2", "ES2", "ES3", "ET2", "ER1", "FR2", "FR4", "GS1", "HS2", "HZ3", "LR1", "QS1",
                     "RE1", "RD1", "TR1", "VR1", "WR1", "BU2", "PU1")

# fact_benchmark: reference values of the national appraisal and the statistical bulletins for 2023, with a
# yearly drift; approximate figures of the right order, NOT verified published values. Each is in the unit
# and the definition of the registry's indicator (day_surgery_share: day surgeries / elective operations, as
# the appraisal defines it).
# code -> (national median in 2023, change per year, provincial median / national, target or None, source)
BENCH_YEAR = 2023
BENCHMARKS: dict[str, tuple[float, float, float, float | None, str]] = {
    "day_surgery_share": (0.20, 0.01, 0.95, 0.22, "appraisal"),
    "surgery_share": (0.45, 0.008, 0.97, 0.50, "appraisal"),
    "outpatient_revenue_share": (0.37, 0.005, 1.0, None, "appraisal"),
    "nurses_per_doctor": (1.55, 0.02, 0.98, 1.6, "bulletin"),
    "pharmacists_per_100_beds": (4.3, 0.05, 0.97, 5.0, "appraisal"),
    "minimally_invasive_share": (0.24, 0.01, 0.96, 0.45, "appraisal"),
    "level4_surgery_share": (0.19, 0.008, 0.97, 0.21, "appraisal"),
    "preop_days": (2.1, -0.08, 1.05, 2.0, "appraisal"),
    "readmission_31d_rate": (0.017, -0.0005, 1.05, None, "appraisal"),
    "surgical_complication_rate": (0.008, -0.0002, 1.05, None, "appraisal"),
    "low_risk_mortality": (0.0003, 0.0, 1.34, None, "appraisal"),
    "fund_share_inpatient": (0.56, 0.004, 0.98, None, "insurance"),
    "fund_share_outpatient": (0.27, 0.015, 0.96, None, "insurance"),
    "charge_per_visit_growth": (0.012, -0.004, 1.1, 0.03, "appraisal"),
    "charge_per_discharge_growth": (-0.02, -0.005, 1.1, 0.0, "appraisal"),
    "drug_per_visit_growth": (-0.015, -0.003, 1.1, 0.0, "appraisal"),
    "drug_per_discharge_growth": (-0.045, -0.004, 1.1, 0.0, "appraisal"),
    "medical_revenue_growth": (0.07, -0.01, 0.95, 0.06, "appraisal"),
    "alos": (7.9, -0.15, 1.03, 7.5, "bulletin"),
    "service_revenue_share": (0.30, 0.007, 0.98, 0.32, "appraisal"),
    "personnel_cost_share": (0.375, 0.004, 0.98, 0.37, "appraisal"),
    "energy_per_10k_revenue": (95.0, -2.0, 1.04, 115.0, "appraisal"),
}
BENCH_SOURCES = {
    "appraisal": ("国家卫生健康委 三级公立医院绩效考核国家监测分析 {y}（近似值）",
                  "省卫生健康委 三级公立医院绩效考核省级通报 {y}（近似值）"),
    "insurance": ("国家医疗保障局 全国医疗保障事业发展统计公报 {y}（近似值）",
                  "省医疗保障局 医疗保障事业发展统计公报 {y}（近似值）"),
    "bulletin": ("国家卫生健康委 我国卫生健康事业发展统计公报 {y}（近似值）",
                 "省卫生健康委 卫生健康事业发展统计公报 {y}（近似值）"),
}
BENCH_TARGET_SOURCE = "医院年度目标 {y}（演示）"
