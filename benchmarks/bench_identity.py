"""Identity resolution benchmark: pairwise precision/recall/F1 against ground truth, wall time, peak RSS.

    .venv/bin/python -m benchmarks.bench_identity --contacts 10000
    .venv/bin/python -m benchmarks.bench_identity --warehouse data/warehouse.duckdb --truth data/exports/_truth/ground_truth.csv

Without --warehouse it builds a synthetic `int_identity_records` (persons with 1-8 records across the nine sources,
nickname and typo variants, several emails, missing fields, role mailboxes, shared switchboard phones, CRM
cross-references) plus its ground truth. With --warehouse it scores a warehouse the real pipeline built (sample
data generator -> ingest -> dbt `+int_identity_records`). Each resolution runs in a child process so its peak RSS
is measured alone. "Splink alone" is the same Splink model with identifiers as comparisons and no deterministic
rules or guards, clustered by Splink's own connected components.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

FIRST = ["james", "john", "robert", "michael", "william", "david", "richard", "joseph", "thomas", "charles", "christopher", "daniel", "matthew", "anthony", "mark", "donald", "steven", "paul", "andrew", "joshua", "kenneth", "kevin", "brian", "george", "timothy", "ronald", "edward", "jason", "jeffrey", "ryan", "jacob", "gary", "nicholas", "eric", "jonathan", "stephen", "larry", "justin", "scott", "brandon", "benjamin", "samuel", "gregory", "alexander", "frank", "patrick", "raymond", "jack", "dennis", "jerry", "tyler", "aaron", "jose", "adam", "nathan", "henry", "douglas", "zachary", "peter", "kyle", "mary", "patricia", "jennifer", "linda", "elizabeth", "barbara", "susan", "jessica", "sarah", "karen", "lisa", "nancy", "betty", "margaret", "sandra", "ashley", "kimberly", "emily", "donna", "michelle", "carol", "amanda", "dorothy", "melissa", "deborah", "stephanie", "rebecca", "sharon", "laura", "cynthia", "kathleen", "amy", "angela", "shirley", "anna", "brenda", "pamela", "emma", "nicole", "helen", "samantha", "katherine", "christine", "debra", "rachel", "carolyn", "janet", "catherine", "maria", "heather", "diane", "ruth", "julie", "olivia", "joyce", "virginia", "victoria", "kelly", "lauren", "christina", "joan", "evelyn", "judith", "megan", "andrea", "cheryl", "hannah", "jacqueline", "martha", "gloria", "teresa", "ann", "sara", "madison", "frances", "kathryn", "janice", "jean", "abigail", "alice", "julia", "judy", "sophia", "grace", "denise", "amber", "doris", "marilyn", "danielle", "beverly", "isabella", "theresa", "diana", "natalie", "brittany", "charlotte", "marie", "kayla", "alexis", "lori"]
NICK = {"robert": "bob", "william": "bill", "richard": "dick", "james": "jim", "michael": "mike",
        "elizabeth": "liz", "katherine": "kate", "margaret": "peggy", "thomas": "tom", "joseph": "joe"}
LAST = ["smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores", "green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter", "roberts", "gomez", "phillips", "evans", "turner", "diaz", "parker", "cruz", "edwards", "collins", "reyes", "stewart", "morris", "morales", "murphy", "cook", "rogers", "gutierrez", "ortiz", "morgan", "cooper", "peterson", "bailey", "reed", "kelly", "howard", "ramos", "kim", "cox", "ward", "richardson", "watson", "brooks", "chavez", "wood", "james", "bennett", "gray", "mendoza", "ruiz", "hughes", "price", "alvarez", "castillo", "sanders", "patel", "myers", "long", "ross", "foster", "jimenez", "powell", "jenkins", "perry", "russell", "sullivan", "bell", "coleman", "butler", "henderson", "barnes", "gonzales", "fisher", "vasquez", "simmons", "romero", "jordan", "patterson", "alexander", "hamilton", "graham", "reynolds", "griffin", "wallace", "moreno", "west", "cole", "hayes", "bryant", "herrera", "gibson", "ellis", "tran", "medina", "aguilar", "stevens", "murray", "ford", "castro", "marshall", "owens", "harrison", "fernandez", "mcdonald", "woods", "washington", "kennedy", "wells", "vargas", "henry", "chen", "freeman", "webb", "tucker", "guzman", "burns", "crawford", "olson", "simpson", "porter", "hunter", "gordon", "mendez", "silva", "shaw", "snyder", "mason", "dixon", "munoz", "hunt", "hicks", "holmes", "palmer", "wagner", "black", "robertson", "boyd", "rose", "stone", "salazar", "fox", "warren", "mills", "meyer", "rice", "schmidt", "garza", "daniels", "ferguson", "nichols", "stephens", "soto", "weaver", "ryan", "gardner", "payne", "grant", "dunn", "kelley", "spencer", "hawkins", "arnold", "pierce", "vazquez", "hansen", "peters", "santos", "hart", "bradley", "knight", "elliott", "cunningham", "duncan", "armstrong", "hudson", "carroll", "lane", "riley", "andrews", "alvarado", "ray", "delgado", "berry", "perkins", "hoffman", "johnston", "matthews", "pena", "richards", "contreras", "willis", "carpenter", "lawrence", "sandoval", "guerrero", "george", "chapman", "rios", "estrada", "ortega", "watkins", "greene", "nunez", "wheeler", "valdez", "harper", "burke", "larson", "santiago", "maldonado", "morrison", "franklin", "carlson", "austin", "dominguez", "carr", "lawson", "jacobs", "obrien", "lynch", "singh", "vega", "bishop", "montgomery", "oliver", "jensen", "harvey", "williamson", "gilbert", "dean", "sims", "espinoza", "howell", "li", "wong", "reid", "hanson", "le", "mccoy", "garrett", "burton", "fuller", "wang", "weber", "welch", "rojas", "lucas", "marquez", "fields", "park", "yang", "little", "banks", "padilla", "day", "walsh", "bowman", "schultz", "luna", "fowler", "mejia", "davidson", "acosta", "brewer", "may", "holland", "juarez", "newman", "pearson", "curtis", "cortez", "douglas", "schneider", "joseph", "barrett", "navarro", "figueroa", "keller", "avila", "wade", "molina", "stanley", "hopkins", "campos", "barnett", "bates", "chambers", "caldwell", "beck", "lambert", "miranda", "byrd", "craig", "ayala", "lowe", "frazier", "powers", "neal", "leonard", "gregory", "carrillo", "sutton", "fleming", "rhodes", "shelton", "schwartz", "norris", "jennings", "watts", "duran", "walters", "cohen", "mcdaniel", "moran", "parks", "steele", "vaughn", "becker", "holt", "deleon", "barker", "terry", "hale", "leon", "hail", "benson", "haynes", "horton", "miles", "lyons", "pham", "graves", "bush", "thornton", "wolfe", "warner", "cabrera", "mckinney", "mann", "zimmerman", "dawson", "lara", "fletcher", "page", "mccarthy", "love", "robles", "cervantes", "solis", "erickson", "reeves", "chang", "klein", "salinas", "fuentes", "baldwin", "daniel", "simon", "velasquez", "hardy", "higgins", "aguirre", "lin", "cummings", "chandler", "sharp", "barber", "bowen", "ochoa", "dennis", "robbins", "liu", "ramsey", "francis", "griffith", "paul", "blair", "oconnor", "cardenas", "pacheco", "cross", "calderon", "quinn", "moss", "swanson", "chan", "rivas", "khan", "rodgers", "serrano", "fitzgerald", "rosales", "stevenson", "christensen", "manning", "gill", "curry", "mclaughlin", "harmon", "mcgee", "gross", "doyle", "garner", "newton", "burgess", "reese", "walton", "blake", "trujillo", "adkins", "brady", "goodman", "roman", "webster", "goodwin", "fischer", "huang", "potts", "delacruz", "montoya", "todd", "wu", "hines", "mullins", "castaneda", "malone", "cannon", "tate", "mack", "sherman", "hubbard", "hodges", "zhang", "guerra", "wolf", "valencia", "saunders", "franco", "rowe", "gallagher", "farmer", "hammond", "hampton", "townsend", "ingram", "wise", "gallegos", "clarke", "barton", "schroeder", "maxwell", "waters", "logan", "camacho", "strickland", "norman", "person", "colon", "parsons", "frank", "harrington", "glover", "osborne", "buchanan", "casey", "floyd", "patton", "ibarra", "ball", "tyler", "suarez", "bowers", "orozco", "salas", "cobb", "gibbs", "andrade", "bauer", "conner", "moody", "escobar", "mcguire", "lloyd", "mueller", "hartman", "french", "kramer", "mcbride", "pope", "lindsey", "velazquez", "norton", "mccormick", "sparks", "flynn", "yates", "hogan", "marsh", "macias", "villanueva", "zamora", "pratt", "stokes", "owen", "ballard", "lang", "brock", "villarreal", "charles", "drake", "barrera", "cain", "patrick", "pineda", "burnett", "mercado", "santana", "shepherd", "bautista", "ali", "shaffer", "lamb", "trevino", "mckenzie", "hess", "beil", "olsen", "cochran", "morton", "nash", "wilkins", "petersen", "briggs", "shah", "roth", "nicholson", "holloway", "lozano", "rangel", "flowers", "hoover", "short", "arias", "mora", "valenzuela", "bryan", "meyers", "weiss", "underwood", "bass", "greer", "summers", "houston", "carson", "morrow", "clayton", "whitaker", "decker", "yoder", "collier", "zuniga", "carey", "wilcox", "melendez", "poole", "roberson", "larsen", "conley", "davenport", "copeland", "massey", "lam", "huff", "rocha", "cameron", "jefferson", "hood", "monroe", "anthony", "pittman", "huynh", "randall", "singleton", "kirk", "combs", "mathis", "christian", "skinner", "bradford", "richard", "galvan", "wall", "boone", "kirby", "wilkinson", "bridges", "bruce", "atkinson", "velez", "meza", "roy", "vincent", "york", "hodge", "villa", "abbott", "allison", "tapia", "gates", "chase", "sosa", "sweeney", "farrell", "wyatt", "dalton", "horn", "barron", "phelps", "yu", "dickerson", "heath", "foley", "atkins", "mathews", "bonilla", "acevedo", "benitez", "zavala", "hensley", "glenn", "cisneros", "harrell", "shields", "rubio", "huffman", "choi", "boyer", "garrison", "arroyo", "bond", "kane", "hancock", "callahan", "dillon", "cline", "wiggins", "grimes", "arellano", "melton", "oneill", "savage", "ho", "beltran", "pitts", "parrish", "ponce", "rich", "booth", "koch", "golden", "ware", "brennan", "mcdowell", "marks", "cantu", "humphrey", "baxter", "sawyer", "clay", "tanner", "hutchinson", "kaur", "berg", "wiley", "gilmore", "russo", "villegas", "hobbs", "keith", "wilkerson", "ahmed", "beard", "mcclain", "montes", "mata", "rosario", "vang", "walter", "henson", "oneal", "mosley", "mcclure", "beasley", "stephenson", "snow", "huerta", "preston", "vance", "barry", "johns", "eaton", "blackwell", "dyer", "prince", "macdonald", "solomon", "guevara", "stafford", "english", "hurst", "woodard", "cortes", "shannon", "kemp", "nolan", "mccullough", "merritt", "murillo", "moon", "salgado", "strong", "kline", "cordova", "barajas", "roach", "rosas", "winters", "jacobson", "lester", "knox", "bullock", "kerr", "leach", "meadows", "orr", "davila", "whitehead", "pruitt", "kent", "conway", "mckee", "barr", "david", "dejesus", "marin", "berger", "mcintyre", "blankenship", "gaines", "palacios", "cuevas", "bartlett", "durham", "dorsey", "mccall", "odonnell", "stein", "browning", "stout", "lowery", "sloan", "mclean", "hendricks", "calhoun", "sexton", "chung", "gentry", "hull", "duarte", "ellison", "nielsen", "gillespie", "buck", "middleton", "sellers", "leblanc", "esparza", "hardin", "bradshaw", "mcintosh", "howe", "livingston", "frost", "glass", "morse", "knapp", "herman", "stark", "bravo", "noble", "spears", "weeks", "corona", "frederick", "buckley", "mcfarland", "hebert", "enriquez", "hickman", "quintero", "randolph", "schaefer", "walls", "trejo", "house", "reilly", "pennington", "michael", "conrad", "giles", "benjamin", "crosby", "fitzpatrick", "donovan", "mays", "mahoney", "valentine", "raymond", "medrano", "hahn", "mcmillan", "small", "bentley", "felix", "peck", "lucero", "boyle", "hanna", "pace", "rush", "hurley", "harding", "mcconnell", "bernal", "nava", "ayers", "everett", "ventura", "avery", "pugh", "mayer", "bender", "shepard", "mcmahon", "landry", "case", "sampson", "moses", "magana", "blackburn", "dunlap", "gould", "duffy", "vaughan", "herring", "mckay", "espinosa", "rivers", "farley", "bernard", "ashley", "friedman", "potter", "truong", "costa", "correa", "blevins", "nixon", "clements", "fry", "delarosa", "best", "benton", "lugo", "portillo", "dougherty", "crane", "haley", "phan", "villalobos", "blanchard", "horne", "finley", "quintana", "lynn", "esquivel", "bean", "dodson", "mullen", "xiong", "hayden", "cano", "levy", "huber", "richmond", "moyer", "lim", "frye", "sheppard", "mccarty", "avalos", "booker", "waller", "parra", "woodward", "jaramillo", "krueger", "rasmussen", "brandt", "peralta", "donaldson", "stuart", "faulkner", "maynard", "galindo", "coffey", "estes", "sanford", "burch", "maddox", "vo", "oconnell", "vu", "andersen", "spence", "mcpherson", "church", "schmitt", "stanton", "leal", "cherry", "compton", "dudley", "sierra", "pollard", "alfaro", "hester", "proctor", "lu", "hinton", "novak", "good", "madden", "mccann", "terrell", "jarvis", "dickson", "reyna", "cantrell", "mayo", "branch", "hendrix", "rollins", "rowland", "whitney", "duke", "odom", "daugherty", "travis", "tang"]
STREETS = [f"{a} {b}" for a in ["main", "oak", "pine", "maple", "cedar", "elm", "washington", "lake", "hill", "park", "view", "ridge", "river", "spring", "sunset", "highland", "church", "mill", "forest"]
           for b in (["st", "ave", "rd", "blvd", "ln", "dr", "way", "ct"])]
CITIES = [f"city{i:03d}" for i in range(300)]
TITLES = ["ceo cfo cto vp marketing", "marketing manager", "sales director", "account executive", "engineer", "analyst", "consultant", "owner", "director of operations", "product manager", "hr manager"]
SOURCES = ["salesforce", "hubspot", "zoho", "dynamics", "custom", "mailchimp", "sendgrid", "zoom", "teams"]
SOURCE_P = [0.2, 0.2, 0.08, 0.08, 0.04, 0.15, 0.1, 0.1, 0.05]
CRM = {"salesforce", "hubspot", "zoho", "dynamics", "custom"}
ROLE = ["info", "sales", "support", "admin", "office", "contact", "hello"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me"]


def _typo(values: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One character dropped, doubled or swapped with its neighbour."""
    out = values.copy()
    for i in np.flatnonzero(mask):
        s = out[i]
        if not isinstance(s, str) or len(s) < 4:
            continue
        j = int(rng.integers(1, len(s) - 1))
        kind = rng.integers(3)
        out[i] = (s[:j] + s[j + 1:]) if kind == 0 else (s[:j] + s[j] + s[j:]) if kind == 1 else \
            (s[:j - 1] + s[j] + s[j - 1] + s[j + 1:])
    return out


def synthetic_records(persons: int, seed: int = 42) -> pd.DataFrame:
    """int_identity_records columns plus `person_id` (the truth)."""
    rng = np.random.default_rng(seed)
    zf = 1 / np.arange(1, len(FIRST) + 1) ** 0.7
    zl = 1 / np.arange(1, len(LAST) + 1) ** 0.8
    p_first = rng.choice(np.array(FIRST, dtype=object), persons, p=zf / zf.sum())
    p_last = rng.choice(np.array(LAST, dtype=object), persons, p=zl / zl.sum())
    p_birth = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 50 * 365, persons), unit="D")
    p_city = rng.integers(0, len(CITIES), persons)
    p_street = np.array([f"{n} {s}" for n, s in zip(rng.integers(1, 9999, persons),
                                                     rng.choice(STREETS, persons), strict=True)], dtype=object)
    p_postal = np.array([f"{c:03d}{d:02d}" for c, d in zip(p_city, rng.integers(0, 40, persons), strict=True)],
                        dtype=object)
    n_companies = max(persons // 8, 10)
    p_company = rng.integers(0, n_companies, persons)
    p_title = rng.choice(np.array(TITLES, dtype=object), persons)
    p_phone = np.array([f"+1{2_000_000_000 + n * 7919 % 7_000_000_000}" for n in rng.permutation(persons)],
                       dtype=object)
    pid = np.arange(persons)
    p_email1 = np.array([f"{f}.{sn}{i}@{DOMAINS[i % len(DOMAINS)]}" for f, sn, i in zip(p_first, p_last, pid,
                                                                                      strict=True)], dtype=object)
    p_email2 = np.array([f"{f[0]}{sn}@company{c}.com" for f, sn, c in zip(p_first, p_last, p_company, strict=True)],
                        dtype=object)

    n_rec = np.minimum(1 + rng.poisson(1.6, persons), 8)
    person = np.repeat(pid, n_rec)
    n = len(person)
    source = rng.choice(np.array(SOURCES, dtype=object), n, p=SOURCE_P)
    is_crm = np.isin(source, list(CRM))
    is_webinar = np.isin(source, ["zoom", "teams"])
    u = rng.random((12, n))
    first = p_first[person].copy()
    nick = np.array([NICK.get(f, f) for f in first], dtype=object)
    first_raw = np.where(u[0] < 0.15, nick, first)  # the canonical mapping undoes nicknames ...
    first = _typo(first, u[1] < 0.03, rng)  # ... but not typos
    last = _typo(p_last[person], u[2] < 0.03, rng)
    # Emails: mostly the personal one, some the work one, some a one-off (no shared identifier).
    one_off = np.array([f"{f}{k}@{DOMAINS[k % len(DOMAINS)]}" for f, k in zip(first, rng.integers(0, 10**7, n),
                                                                              strict=True)], dtype=object)
    email = np.where(u[3] < 0.6, p_email1[person], np.where(u[3] < 0.82, p_email2[person], one_off))
    company = p_company[person]
    role = np.array([f"{ROLE[k % len(ROLE)]}@company{c}.com" for k, c in zip(rng.integers(0, 7, n), company,
                                                                               strict=True)], dtype=object)
    email = np.where(u[4] < 0.015, role, email)
    email = np.where(is_crm & (u[5] < 0.08), None, email)
    phone = np.where(is_crm & (u[6] < 0.45), p_phone[person], None)
    switchboard = np.array([f"+18000{c:06d}" for c in company], dtype=object)
    phone = np.where(is_crm & (u[6] >= 0.45) & (u[6] < 0.55), switchboard, phone)
    has_addr = is_crm & (u[7] < 0.7)
    street = np.where(has_addr, _typo(p_street[person], u[8] < 0.04, rng), None)
    city = np.where(has_addr, np.array(CITIES, dtype=object)[p_city[person]], None)
    postal = np.where(has_addr, p_postal[person], None)
    birth = np.where(is_crm & (u[9] < 0.5), p_birth[person].date, None)
    company_name = np.where(is_crm | is_webinar, np.array([f"company{c}" for c in company], dtype=object), None)
    title = np.where(is_crm & (u[10] < 0.7), p_title[person], None)
    has_name = ~np.isin(source, ["sendgrid"])

    rid = np.array([f"{i:08d}" for i in range(n)], dtype=object)
    df = pd.DataFrame({
        "person_id": person.astype(str), "source_system": source, "source_record_id": rid,
        "email": email, "phone_e164": phone,
        "first_name_canonical": np.where(has_name, first, None), "first_name": np.where(has_name, first_raw, None),
        "last_name_norm": np.where(has_name, last, None), "street_norm": street, "city_norm": city,
        "postal_code_norm": postal, "country_code": np.where(has_addr, "US", None), "company_norm": company_name,
        "title": title, "birth_date": birth,
    })
    # sendgrid / zoom / teams: one record per distinct email (the contract); mailchimp keeps its LEID.
    by_email = df["source_system"].isin(["sendgrid", "zoom", "teams"]) & df["email"].notna()
    df.loc[by_email, "source_record_id"] = df.loc[by_email, "email"]
    df = pd.concat([df[~by_email], df[by_email].drop_duplicates(["source_system", "email"])])
    df = df[~(df["source_system"].isin(["sendgrid", "zoom", "teams"]) & df["email"].isna())]
    df["record_key"] = df["source_system"] + ":" + df["source_record_id"]
    # HubSpot records that know the Salesforce record of the same person.
    sf = df[df["source_system"] == "salesforce"].drop_duplicates("person_id").set_index("person_id")
    hs = (df["source_system"] == "hubspot") & df["person_id"].isin(sf.index) & (rng.random(len(df)) < 0.3)
    df["xref_salesforce_id"] = None
    df.loc[hs, "xref_salesforce_id"] = sf.loc[df.loc[hs, "person_id"], "source_record_id"].to_numpy()
    df["xref_hubspot_id"] = None
    df["converted_contact_id"] = None
    df["master_record_id"] = None
    df["record_type"] = "contact"
    df["is_deleted"] = False
    df["birth_date"] = pd.to_datetime(df["birth_date"])
    return df.reset_index(drop=True)


def build_synthetic(warehouse: Path, truth_csv: Path, persons: int, seed: int) -> int:
    df = synthetic_records(persons, seed)
    truth_csv.parent.mkdir(parents=True, exist_ok=True)
    df[["source_system", "source_record_id", "person_id"]].to_csv(truth_csv, index=False)
    con = duckdb.connect(str(warehouse))
    con.register("df", df.drop(columns=["person_id"]))
    con.execute("CREATE OR REPLACE TABLE int_identity_records AS SELECT * REPLACE (CAST(birth_date AS DATE) AS "
                "birth_date) FROM df")
    con.close()
    return len(df)


def _splink_alone(con: duckdb.DuckDBPyConnection, config) -> None:
    """Splink on its own: identifiers as comparisons and blocking rules, Splink's clustering, no guards."""
    from splink import DuckDBAPI, Linker, block_on

    from pipelines.lib.identity import resolve as rs
    from pipelines.lib.identity.probabilistic import SPLINK_INPUT, build_settings

    rs._prepare_records(con, "int_identity_records", [])
    con.execute("CREATE OR REPLACE TEMP TABLE _id_blocked_phone (phone_e164 VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE _id_blocked_email (email VARCHAR)")
    rs._splink_input(con)
    cfg = config.model_copy(deep=True)
    cfg.splink.blocking_rules = [*cfg.splink.blocking_rules, ["email"]]
    settings = build_settings(cfg)
    linker = Linker(DuckDBAPI(connection=con).register(SPLINK_INPUT), settings, log_level=40)
    s = cfg.splink
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone_e164", "last_name_norm"),
         block_on("first_name_canonical", "last_name_norm", "birth_date")], recall=s.recall_of_deterministic_rules)
    linker.training.estimate_u_using_random_sampling(max_pairs=s.u_max_pairs, seed=s.seed)
    for rule in s.em_blocking_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule),
                                                                          estimate_without_term_frequencies=True)
    pred = linker.inference.predict(threshold_match_probability=cfg.thresholds.match_probability)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=cfg.thresholds.match_probability)
    con.execute(f"""
        CREATE OR REPLACE TABLE splink_alone_clusters AS
        SELECT r.record_key, CAST(c.cluster_id AS VARCHAR) AS customer_id
        FROM {clusters.physical_name} c JOIN _id_records r ON r.id = c.id
    """)
    linker.table_management.delete_tables_created_by_splink_from_db()


def child(args: argparse.Namespace) -> None:
    """Run one resolution (ours or Splink alone) on the warehouse and print timings as JSON."""
    from pipelines.lib.identity import load_identity_config, resolve_identities

    config = load_identity_config(Path(args.config_dir))
    con = duckdb.connect(args.warehouse)
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    started = time.perf_counter()
    if args.mode == "splink_alone":
        _splink_alone(con, config)
        out: dict[str, object] = {}
    else:
        report = resolve_identities(con, config, run_id=args.run_id, now=datetime.now(UTC))
        out = report.as_metadata()
    out["wall_seconds"] = time.perf_counter() - started
    con.close()
    print("RESULT " + json.dumps(out))


def _run_child(args: argparse.Namespace, warehouse: Path, mode: str, run_id: str) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_identity", "--child", mode, "--warehouse", str(warehouse),
           "--config-dir", args.config_dir, "--threads", str(args.threads), "--memory-limit", args.memory_limit,
           "--run-id", run_id]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-4000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["process_wall_seconds"] = wall
    return result


def _child_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=10_000, help="synthetic persons (records ~ 2.3x)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--warehouse", help="score this warehouse (needs int_identity_records) instead")
    parser.add_argument("--truth", help="ground truth CSV for --warehouse")
    parser.add_argument("--config-dir", default="config")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument("--skip-splink-alone", action="store_true")
    parser.add_argument("--child", choices=["resolve", "splink_alone"], help=argparse.SUPPRESS)
    parser.add_argument("--run-id", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.mode = args.child
        child(args)
        return

    from pipelines.lib.identity import score_pairs

    tmp = Path(tempfile.mkdtemp(prefix="bench_identity_"))
    if args.warehouse:
        if not args.truth:
            parser.error("--warehouse needs --truth")
        warehouse, truth = Path(args.warehouse), Path(args.truth)
        records = duckdb.connect(str(warehouse), read_only=True).execute(
            "SELECT count(*) FROM int_identity_records").fetchone()[0]
        source = "pipeline warehouse"
    else:
        warehouse, truth = tmp / "warehouse.duckdb", tmp / "_truth" / "ground_truth.csv"
        started = time.perf_counter()
        records = build_synthetic(warehouse, truth, args.contacts, args.seed)
        print(f"synthetic int_identity_records: {records} records for {args.contacts} persons "
              f"({time.perf_counter() - started:.1f}s)")
        source = "synthetic"

    ours = _run_child(args, warehouse, "resolve", "bench-1")
    rss_ours = _child_peak_rss_mb()
    con = duckdb.connect(str(warehouse))
    scores = score_pairs(con, truth)
    con.close()
    print(f"\n== resolve_identities on {records} records ({source}) ==")
    print(f"wall {ours['wall_seconds']:.1f}s (process {ours['process_wall_seconds']:.1f}s), "
          f"peak RSS {rss_ours:.0f} MB")
    print(json.dumps({k: v for k, v in ours.items() if not k.startswith("process")}, indent=1))
    _print_scores("overall", scores.overall, scores.records_scored)
    _print_scores("no shared identifier", scores.no_shared_identifier, scores.no_shared_identifier_records)

    if not args.skip_splink_alone:
        alone = _run_child(args, warehouse, "splink_alone", "bench-splink")
        rss_alone = _child_peak_rss_mb()
        con = duckdb.connect(str(warehouse))
        s2 = score_pairs(con, truth, clusters_table="splink_alone_clusters")
        con.close()
        print(f"\n== Splink alone on the same records ==\nwall {alone['wall_seconds']:.1f}s, "
              f"peak RSS (max of both children) {rss_alone:.0f} MB")
        _print_scores("overall", s2.overall, s2.records_scored)
        _print_scores("no shared identifier", s2.no_shared_identifier, s2.no_shared_identifier_records)


def _print_scores(label: str, m, n: int) -> None:
    print(f"{label:>22}: records {n}, true pairs {m.true_pairs}, predicted {m.predicted_pairs}, "
          f"precision {m.precision:.4f}, recall {m.recall:.4f}, F1 {m.f1:.4f}")


if __name__ == "__main__":
    main()
