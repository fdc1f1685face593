"""Word lists the generator draws from: names, countries, cities, companies, titles, campaigns.

Everything here is small (hundreds of entries); per-record values are produced by indexing these lists with
numpy arrays, never by looping over records.
"""

from __future__ import annotations

import unicodedata

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen",
    "Charles", "Nancy", "Daniel", "Lisa", "Matthew", "Margaret", "Anthony", "Sandra", "Mark", "Ashley",
    "Steven", "Kimberly", "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle", "Kevin", "Carol",
    "Brian", "Amanda", "Timothy", "Melissa", "Ronald", "Deborah", "Jonathan", "Stephanie", "Edward", "Rebecca",
    "Jason", "Sharon", "Jeffrey", "Laura", "Gregory", "Cynthia", "Alexander", "Katherine", "Benjamin", "Victoria",
    "Samuel", "Rachel", "Nicholas", "Hannah", "Patrick", "Olivia", "Peter", "Sophie", "Oliver", "Charlotte",
    "Harry", "Amelia", "George", "Isla", "Jack", "Grace", "Liam", "Aoife", "Seán", "Siobhán", "Niamh", "Ciarán",
    "José", "María", "Javier", "Lucía", "Alejandro", "Carmen", "Francisco", "Sofía", "Pablo", "Inés",
    "Ángel", "Martín", "Andrés", "Núria", "Jörg", "Jürgen", "Lukas", "Anna", "Maximilian", "Lena", "Felix",
    "Jonas", "Zoë", "Leonie", "Björn", "Ümit", "Matthias", "Katharina", "Søren", "Mette", "Rasmus", "Freja",
    "Mads", "Astrid", "Jens", "Sigrid", "Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Krzysztof", "Zofia",
    "Wojciech", "Katarzyna", "Tomasz", "Joanna", "François", "Amélie", "Hélène", "Jérôme", "Céline", "Benoît",
    "Léa", "Chloé", "Théo", "Noémie", "Pieter", "Daan", "Sanne", "Femke", "Joost", "Eva", "Lars", "Anouk",
    "Emma", "Noah", "Mia", "Ethan", "Ava", "Lucas", "Chen", "Wei", "Priya", "Arjun", "Ananya", "Rahul",
    "Aisha", "Omar", "Fatima", "Yusuf", "Hiroshi", "Yuki", "João", "Gonçalo", "Beatriz", "Thiago",
]

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson",
    "Carter", "Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins",
    "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Bell",
    "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "Hughes",
    "O'Brien", "O'Connor", "O'Sullivan", "McCarthy", "MacDonald", "Byrne", "Walsh", "Ní Bhriain", "Doyle",
    "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez",
    "Torres", "Núñez", "Jiménez", "Muñoz", "Álvarez", "Castaño", "Müller", "Schmidt", "Schneider", "Fischer",
    "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Köhler",
    "Groß", "Jørgensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Sørensen", "Rasmussen", "Kristensen",
    "Møller", "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
    "Zieliński", "Dąbrowski", "Szymańska", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Bérubé",
    "Lefebvre", "Rousseau", "Fournier", "Mercier", "de Vries", "van den Berg", "Jansen", "Bakker",
    "Visser", "Smit", "de Jong", "van Dijk", "Mulder", "Meijer", "Chen", "Wang", "Li", "Patel", "Singh",
    "Kumar", "Sharma", "Khan", "Ali", "Hassan", "Tanaka", "Sato", "Nguyen", "Kim", "Park", "Silva",
    "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Ferreira", "Gonçalves",
]
# A share of last names are double-barrelled; these are built from the lists above.
HYPHENATED_LAST_NAMES = [
    "Smith-Jones", "García-López", "Müller-Lüdenscheidt", "Taylor-Hughes", "Martín-Sánchez",
    "Nowak-Kowalska", "Jørgensen-Møller", "Dubois-Lefèvre", "Baker-O'Neill", "Pérez-Núñez",
    "Clarke-Whitfield", "Hansen-Berg", "Wright-Evans", "Lewandowska-Zając", "Fernández-Castro",
]

NICKNAMES = {
    "Robert": ["Bob", "Rob", "Bobby"], "William": ["Bill", "Will", "Billy"], "Katherine": ["Kate", "Kathy", "Katie"],
    "Jonathan": ["Jon", "Johnny"], "Elizabeth": ["Liz", "Beth", "Lizzie"], "Michael": ["Mike", "Mick"],
    "James": ["Jim", "Jimmy", "Jamie"], "Richard": ["Rick", "Rich", "Dick"], "Thomas": ["Tom", "Tommy"],
    "Christopher": ["Chris", "Kit"], "Daniel": ["Dan", "Danny"], "Matthew": ["Matt"], "Anthony": ["Tony"],
    "Joseph": ["Joe", "Joey"], "Margaret": ["Maggie", "Peggy", "Meg"], "Jennifer": ["Jen", "Jenny"],
    "Patricia": ["Pat", "Patty", "Trish"], "Alexander": ["Alex", "Sasha"], "Samuel": ["Sam"],
    "Benjamin": ["Ben", "Benji"], "Nicholas": ["Nick", "Nico"], "Steven": ["Steve"], "Andrew": ["Andy", "Drew"],
    "Edward": ["Ed", "Eddie", "Ted"], "Jessica": ["Jess", "Jessie"], "Rebecca": ["Becky", "Becca"],
    "Victoria": ["Vicky", "Tori"], "Susan": ["Sue", "Suzy"], "Deborah": ["Debbie", "Deb"], "Timothy": ["Tim"],
    "Gregory": ["Greg"], "Kenneth": ["Ken", "Kenny"], "Ronald": ["Ron", "Ronnie"], "Jeffrey": ["Jeff"],
    "Stephanie": ["Steph"], "Kimberly": ["Kim"], "Francisco": ["Paco", "Fran"], "José": ["Pepe"],
    "Alejandro": ["Álex", "Alex"], "Katharina": ["Kathi", "Katja"], "Maximilian": ["Max"],
    "Małgorzata": ["Gosia"], "Krzysztof": ["Krzyś"], "Katarzyna": ["Kasia"], "Joshua": ["Josh"],
    "Peter": ["Pete"], "Charlotte": ["Lottie", "Charlie"], "Amanda": ["Mandy"], "Melissa": ["Mel"],
    "Olivia": ["Liv"], "Hannah": ["Hanna"], "Zoë": ["Zoe"], "Jörg": ["Joerg"], "Seán": ["Sean"],
}

# name, iso2, iso3, ISO short name, other spellings, dialling code, trunk prefix, mobile prefix,
# subscriber digits, group sizes for display, weight, freemail domains, legal suffixes, street style
COUNTRIES = [
    dict(iso2="US", iso3="USA", name="United States", long="United States of America", alts=["USA", "U.S.", "US"],
         cc="1", trunk="", groups=(3, 3, 4), weight=0.36, local="United States",
         freemail=["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"],
         suffixes=["Inc.", "Inc", "LLC", "Corp.", "Corporation"], tld="com", street_style="number_first"),
    dict(iso2="GB", iso3="GBR", name="United Kingdom", long="United Kingdom of Great Britain and Northern Ireland",
         alts=["UK", "Great Britain", "England"], cc="44", trunk="0", groups=(2, 4, 4), weight=0.12,
         local="United Kingdom", freemail=["gmail.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com"],
         suffixes=["Ltd", "Ltd.", "Limited", "PLC"], tld="co.uk", street_style="number_first"),
    dict(iso2="DE", iso3="DEU", name="Germany", long="Federal Republic of Germany", alts=["Deutschland", "DE"],
         cc="49", trunk="0", groups=(2, 4, 4), weight=0.11, local="Deutschland",
         freemail=["gmail.com", "web.de", "gmx.de", "t-online.de"], suffixes=["GmbH", "AG", "GmbH & Co. KG"],
         tld="de", street_style="name_first"),
    dict(iso2="FR", iso3="FRA", name="France", long="French Republic", alts=["FR", "République française"],
         cc="33", trunk="0", groups=(1, 2, 2, 2, 2), weight=0.07, local="France",
         freemail=["gmail.com", "orange.fr", "free.fr", "laposte.net"], suffixes=["S.A.", "SA", "SAS", "SARL"],
         tld="fr", street_style="number_first_fr"),
    dict(iso2="ES", iso3="ESP", name="Spain", long="Kingdom of Spain", alts=["España", "ES"], cc="34", trunk="",
         groups=(3, 3, 3), weight=0.05, local="España", freemail=["gmail.com", "hotmail.es", "yahoo.es"],
         suffixes=["S.A.", "S.L.", "SL"], tld="es", street_style="name_first_es"),
    dict(iso2="NL", iso3="NLD", name="Netherlands", long="Kingdom of the Netherlands",
         alts=["The Netherlands", "Holland", "Nederland"], cc="31", trunk="0", groups=(2, 3, 4), weight=0.04,
         local="Nederland", freemail=["gmail.com", "ziggo.nl", "kpnmail.nl"], suffixes=["B.V.", "BV", "N.V."],
         tld="nl", street_style="name_first"),
    dict(iso2="DK", iso3="DNK", name="Denmark", long="Kingdom of Denmark", alts=["Danmark", "DK"], cc="45",
         trunk="", groups=(2, 2, 2, 2), weight=0.03, local="Danmark", freemail=["gmail.com", "hotmail.dk", "mail.dk"],
         suffixes=["A/S", "ApS"], tld="dk", street_style="name_first"),
    dict(iso2="PL", iso3="POL", name="Poland", long="Republic of Poland", alts=["Polska", "PL"], cc="48", trunk="",
         groups=(3, 3, 3), weight=0.04, local="Polska", freemail=["gmail.com", "wp.pl", "onet.pl", "o2.pl"],
         suffixes=["Sp. z o.o.", "S.A."], tld="pl", street_style="prefix_ul"),
    dict(iso2="IE", iso3="IRL", name="Ireland", long="Republic of Ireland", alts=["Éire", "IE"], cc="353",
         trunk="0", groups=(1, 3, 4), weight=0.03, local="Ireland", freemail=["gmail.com", "eircom.net", "outlook.ie"],
         suffixes=["Ltd", "Limited", "DAC"], tld="ie", street_style="number_first"),
    dict(iso2="CA", iso3="CAN", name="Canada", long="Canada", alts=["CA", "CAN"], cc="1", trunk="",
         groups=(3, 3, 4), weight=0.06, local="Canada", freemail=["gmail.com", "yahoo.ca", "hotmail.com", "rogers.com"],
         suffixes=["Inc.", "Ltd.", "Corp."], tld="ca", street_style="number_first"),
    dict(iso2="AU", iso3="AUS", name="Australia", long="Commonwealth of Australia", alts=["AU", "AUS"], cc="61",
         trunk="0", groups=(1, 4, 4), weight=0.05, local="Australia",
         freemail=["gmail.com", "bigpond.com", "outlook.com.au"], suffixes=["Pty Ltd", "Pty. Ltd.", "Ltd"],
         tld="com.au", street_style="number_first"),
    dict(iso2="BR", iso3="BRA", name="Brazil", long="Federative Republic of Brazil", alts=["Brasil", "BR"],
         cc="55", trunk="0", groups=(2, 5, 4), weight=0.04, local="Brasil",
         freemail=["gmail.com", "hotmail.com", "uol.com.br", "bol.com.br"], suffixes=["Ltda.", "S.A.", "LTDA"],
         tld="com.br", street_style="name_first_es"),
]

# city, state/region (code), time zone, area prefix (national significant number starts with it),
# mobile prefix, postal pattern (# digit, A letter), latitude, longitude
CITIES = {
    "US": [
        ("New York", "NY", "America/New_York", "212", "917", "100##", 40.71, -74.01),
        ("Boston", "MA", "America/New_York", "617", "857", "021##", 42.36, -71.06),
        ("Atlanta", "GA", "America/New_York", "404", "678", "303##", 33.75, -84.39),
        ("Chicago", "IL", "America/Chicago", "312", "773", "606##", 41.88, -87.63),
        ("Austin", "TX", "America/Chicago", "512", "737", "787##", 30.27, -97.74),
        ("Denver", "CO", "America/Denver", "303", "720", "802##", 39.74, -104.99),
        ("Phoenix", "AZ", "America/Phoenix", "602", "480", "850##", 33.45, -112.07),
        ("San Francisco", "CA", "America/Los_Angeles", "415", "628", "941##", 37.77, -122.42),
        ("Seattle", "WA", "America/Los_Angeles", "206", "425", "981##", 47.61, -122.33),
        ("Los Angeles", "CA", "America/Los_Angeles", "213", "323", "900##", 34.05, -118.24),
    ],
    "GB": [
        ("London", "England", "Europe/London", "20", "77", "EC# #AA", 51.51, -0.13),
        ("Manchester", "England", "Europe/London", "161", "79", "M# #AA", 53.48, -2.24),
        ("Edinburgh", "Scotland", "Europe/London", "131", "74", "EH# #AA", 55.95, -3.19),
        ("Bristol", "England", "Europe/London", "117", "75", "BS# #AA", 51.45, -2.59),
    ],
    "DE": [
        ("Berlin", "Berlin", "Europe/Berlin", "30", "151", "10###", 52.52, 13.40),
        ("München", "Bayern", "Europe/Berlin", "89", "160", "80###", 48.14, 11.58),
        ("Hamburg", "Hamburg", "Europe/Berlin", "40", "170", "20###", 53.55, 9.99),
        ("Köln", "Nordrhein-Westfalen", "Europe/Berlin", "221", "176", "50###", 50.94, 6.96),
        ("Düsseldorf", "Nordrhein-Westfalen", "Europe/Berlin", "211", "152", "40###", 51.23, 6.77),
    ],
    "FR": [
        ("Paris", "Île-de-France", "Europe/Paris", "1", "6", "750##", 48.86, 2.35),
        ("Lyon", "Auvergne-Rhône-Alpes", "Europe/Paris", "4", "7", "690##", 45.76, 4.84),
        ("Toulouse", "Occitanie", "Europe/Paris", "5", "6", "310##", 43.60, 1.44),
    ],
    "ES": [
        ("Madrid", "Madrid", "Europe/Madrid", "91", "6", "280##", 40.42, -3.70),
        ("Barcelona", "Cataluña", "Europe/Madrid", "93", "6", "080##", 41.39, 2.17),
        ("Valencia", "Comunidad Valenciana", "Europe/Madrid", "96", "6", "460##", 39.47, -0.38),
    ],
    "NL": [
        ("Amsterdam", "Noord-Holland", "Europe/Amsterdam", "20", "6", "10## AA", 52.37, 4.90),
        ("Rotterdam", "Zuid-Holland", "Europe/Amsterdam", "10", "6", "30## AA", 51.92, 4.48),
        ("Utrecht", "Utrecht", "Europe/Amsterdam", "30", "6", "35## AA", 52.09, 5.12),
    ],
    "DK": [
        ("København", "Hovedstaden", "Europe/Copenhagen", "3", "2", "1###", 55.68, 12.57),
        ("Aarhus", "Midtjylland", "Europe/Copenhagen", "8", "4", "8000", 56.16, 10.20),
    ],
    "PL": [
        ("Warszawa", "mazowieckie", "Europe/Warsaw", "22", "5", "00-###", 52.23, 21.01),
        ("Kraków", "małopolskie", "Europe/Warsaw", "12", "6", "30-###", 50.06, 19.94),
        ("Wrocław", "dolnośląskie", "Europe/Warsaw", "71", "6", "50-###", 51.11, 17.03),
    ],
    "IE": [
        ("Dublin", "Dublin", "Europe/Dublin", "1", "8", "D0# A#A#", 53.35, -6.26),
        ("Cork", "Cork", "Europe/Dublin", "21", "8", "T12 A#A#", 51.90, -8.47),
    ],
    "CA": [
        ("Toronto", "ON", "America/Toronto", "416", "647", "M5A #A#", 43.65, -79.38),
        ("Vancouver", "BC", "America/Vancouver", "604", "778", "V6B #A#", 49.28, -123.12),
        ("Montréal", "QC", "America/Toronto", "514", "438", "H2X #A#", 45.50, -73.57),
    ],
    "AU": [
        ("Sydney", "NSW", "Australia/Sydney", "2", "4", "20##", -33.87, 151.21),
        ("Melbourne", "VIC", "Australia/Melbourne", "3", "4", "30##", -37.81, 144.96),
        ("Brisbane", "QLD", "Australia/Brisbane", "7", "4", "40##", -27.47, 153.03),
    ],
    "BR": [
        ("São Paulo", "SP", "America/Sao_Paulo", "113", "119", "01###-###", -23.55, -46.63),
        ("Rio de Janeiro", "RJ", "America/Sao_Paulo", "213", "219", "20###-###", -22.91, -43.17),
    ],
}

STREET_NAMES = {
    "number_first": ["Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park",
                     "High", "Church", "Station", "Victoria", "King", "Queen", "Market", "Mill", "River", "Sunset"],
    "name_first": ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Goethestraße", "Lindenallee",
                   "Kerkstraat", "Dorpsstraat", "Nørregade", "Vesterbrogade", "Keizersgracht", "Bergstraße"],
    "number_first_fr": ["rue de la Paix", "avenue Victor Hugo", "rue du Faubourg Saint-Honoré", "boulevard Voltaire",
                        "rue de Rivoli", "place Bellecour", "rue Lafayette", "allée des Tilleuls"],
    "name_first_es": ["Calle Mayor", "Gran Vía", "Avenida Paulista", "Rua Augusta", "Calle de Alcalá",
                      "Passeig de Gràcia", "Rua das Flores", "Avenida Diagonal"],
    "prefix_ul": ["ul. Marszałkowska", "ul. Floriańska", "ul. Piotrkowska", "ul. Świętokrzyska", "al. Jerozolimskie"],
}
STREET_TYPES = [("Street", "St."), ("Avenue", "Ave."), ("Road", "Rd."), ("Drive", "Dr."), ("Lane", "Ln."),
                ("Boulevard", "Blvd.")]

COMPANY_WORDS_1 = [
    "Blue", "North", "Silver", "Bright", "Red", "Green", "Iron", "Golden", "Summit", "Harbor", "Pioneer", "Atlas",
    "Nova", "Crest", "Vertex", "Alpine", "Coastal", "Urban", "Prime", "Stellar", "Quantum", "Cobalt", "Maple",
    "Oak", "Falcon", "Eagle", "Orion", "Polar", "Granite", "Horizon", "Beacon", "Cedar", "Delta", "Echo", "Apex",
    "Keystone", "Lumen", "Meridian", "Nimbus", "Pacific", "Redwood", "Sapphire", "Terra", "Union", "Vector",
    "Willow", "Zenith", "Aurora", "Bold", "Clear", "Evergreen", "First", "Grand", "Highland", "Liberty",
    "Metro", "Nordic", "Open", "Pinnacle", "Riverstone", "Sterling", "True", "Vantage", "West", "Bay", "Canyon",
    "Dune", "Ember", "Fjord", "Glacier", "Helix", "Indigo", "Juniper", "Kestrel", "Lotus", "Mosaic", "Nexus",
    "Onyx", "Prism", "Quartz", "Ridge", "Sierra", "Tidal", "Umber", "Velvet", "Wave", "Xenon", "Yellowstone",
    "Zephyr", "Arrow", "Birch", "Copper", "Drift", "Elm", "Flint", "Grove", "Hawk", "Isle", "Jade", "Kite",
]
COMPANY_WORDS_2 = [
    "Analytics", "Systems", "Logistics", "Health", "Labs", "Software", "Capital", "Energy", "Foods", "Media",
    "Partners", "Robotics", "Networks", "Solutions", "Consulting", "Dynamics", "Industries", "Holdings", "Works",
    "Retail", "Bio", "Pharma", "Finance", "Insurance", "Motors", "Textiles", "Studios", "Data", "Cloud", "Security",
    "Telecom", "Learning", "Travel", "Brands", "Manufacturing", "Engineering", "Materials", "Devices", "Apparel",
    "Ventures", "Trading", "Shipping", "Marine", "Aerospace", "Chemicals", "Design", "Interactive", "Mobility",
    "Payments", "Foods Group", "Outdoors", "Home", "Living", "Vision", "Signal", "Grid", "Harvest", "Motion",
    "Supply", "Freight",
]
COMPANY_WORDS_3 = ["", " Group", " International", " Global", " & Co", " Europe", " America", " Digital",
                   " Technologies", " Services", " Worldwide", " Collective", " Partners", " Labs", " One",
                   " Direct", " Alliance", " Hub", " Company", " Works"]

# canonical industry, Salesforce picklist label, HubSpot label
INDUSTRIES = [
    ("software", "Technology", "Computer Software"), ("finance", "Finance", "Financial Services"),
    ("healthcare", "Healthcare", "Hospital & Health Care"), ("manufacturing", "Manufacturing", "Machinery"),
    ("retail", "Retail", "Retail"), ("education", "Education", "Education Management"),
    ("consulting", "Consulting", "Management Consulting"), ("media", "Media", "Marketing and Advertising"),
    ("telecom", "Telecommunications", "Telecommunications"), ("energy", "Energy", "Oil & Energy"),
    ("logistics", "Transportation", "Logistics and Supply Chain"), ("insurance", "Insurance", "Insurance"),
]

# title, seniority, department, alternative spelling, weight
TITLES = [
    ("CEO", "c_level", "Executive", "Chief Executive Officer", 0.02),
    ("CFO", "c_level", "Finance", "Chief Financial Officer", 0.01),
    ("CMO", "c_level", "Marketing", "Chief Marketing Officer", 0.015),
    ("CTO", "c_level", "Engineering", "Chief Technology Officer", 0.01),
    ("COO", "c_level", "Operations", "Chief Operating Officer", 0.008),
    ("Founder & CEO", "c_level", "Executive", "Co-Founder and CEO", 0.01),
    ("VP of Marketing", "vp", "Marketing", "VP Marketing", 0.02),
    ("VP of Sales", "vp", "Sales", "Vice President, Sales", 0.02),
    ("VP Engineering", "vp", "Engineering", "Vice President of Engineering", 0.012),
    ("SVP Operations", "vp", "Operations", "Senior Vice President, Operations", 0.006),
    ("Director of Marketing", "director", "Marketing", "Marketing Director", 0.035),
    ("Director of Sales", "director", "Sales", "Sales Director", 0.03),
    ("Director of Operations", "director", "Operations", "Operations Director", 0.02),
    ("IT Director", "director", "IT", "Director, IT", 0.02),
    ("Head of Growth", "director", "Marketing", "Head of Growth Marketing", 0.015),
    ("Head of Data", "director", "Engineering", "Head of Data & Analytics", 0.012),
    ("Marketing Manager", "manager", "Marketing", "Mgr, Marketing", 0.07),
    ("Sales Manager", "manager", "Sales", "Manager, Sales", 0.06),
    ("Product Manager", "manager", "Product", "Sr. Product Manager", 0.05),
    ("Operations Manager", "manager", "Operations", "Ops Manager", 0.04),
    ("Account Manager", "manager", "Sales", "Key Account Manager", 0.05),
    ("Procurement Manager", "manager", "Purchasing", "Purchasing Manager", 0.025),
    ("Engineering Manager", "manager", "Engineering", "Manager, Engineering", 0.03),
    ("Senior Data Analyst", "individual", "Engineering", "Sr. Data Analyst", 0.04),
    ("Marketing Analyst", "individual", "Marketing", "Analyst, Marketing", 0.05),
    ("Financial Analyst", "individual", "Finance", "Analyst - Finance", 0.04),
    ("Software Engineer", "individual", "Engineering", "Software Developer", 0.07),
    ("Marketing Coordinator", "individual", "Marketing", "Coordinator, Marketing", 0.04),
    ("Sales Representative", "individual", "Sales", "Account Executive", 0.06),
    ("Customer Success Specialist", "individual", "Support", "CS Specialist", 0.04),
    ("Consultant", "individual", "Services", "Senior Consultant", 0.04),
    ("Office Manager", "manager", "Administration", "Office Mgr", 0.02),
    ("Student", "other", "", "Student", 0.01),
]

PRODUCTS = ["Touchplan Core", "Touchplan Analytics", "Touchplan Enterprise", "Onboarding Services", "Premium Support"]
TIMEFRAMES = ["Within 1 month", "1-3 months", "3-6 months", "6-12 months", "No timeframe"]
SF_LEAD_SOURCES = ["Web", "Webinar", "Partner Referral", "Trade Show", "Advertisement", "Purchased List",
                   "Employee Referral", "Other"]
SF_OWNER_IDS = ["0058d000001AbCdAAK", "0058d000002XyZwAAK", "0058d000003QrStAAK", "0058d000004MnOpAAK"]
HS_OWNERS = ["Alex Rivera", "Jordan Lee", "Sam Patel", "Taylor Brooks", ""]
EMAIL_CATEGORIES = ["newsletter", "product_update", "webinar_invite", "promotion", "onboarding", "event"]
CAMPAIGN_THEMES = ["Monthly Newsletter", "Product Update", "Webinar Invitation", "Spring Promotion",
                   "Customer Stories", "Feature Launch", "Industry Report", "Event Recap", "Renewal Reminder"]
WEBINAR_TOPICS = [
    "Touchplan Product Demo: Planning Contacts End to End", "Industry Trends 2026: Customer Data in B2B",
    "Live Q&A: Consent and Suppression Done Right", "Product Demo: Lifecycle Stages and Moments",
    "Industry Trends: Webinars That Convert", "Customer Panel: From Spreadsheets to Pipelines",
    "Deep Dive: Identity Resolution Without Tears", "Product Demo: RFV Segments in Practice",
]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
]
BOUNCE_REASONS = [
    ("550 5.1.1 The email account that you tried to reach does not exist.", "5.1.1", "Invalid Address"),
    ("552 5.2.2 Mailbox full", "5.2.2", "Mailbox Unavailable"),
    ("550 5.7.1 Message rejected due to content restrictions", "5.7.1", "Content"),
    ("421 4.7.0 Temporary deferral due to sender reputation", "4.7.0", "Reputation"),
    ("554 5.7.1 Service unavailable; Client host blocked using Spamhaus", "5.7.1", "Reputation"),
    ("451 4.7.650 The mail server has been temporarily rate limited", "4.7.650", "Frequency or Volume Too High"),
    ("550 5.0.0 Unclassified delivery failure", "5.0.0", "Unclassified"),
]
DROP_REASONS = ["Bounced Address", "Unsubscribed Address", "Spam Reporting Address", "Invalid SMTPAPI header"]
UNSUB_REASONS = ["I no longer want to receive these emails", "I never signed up for this mailing list",
                 "The emails are inappropriate", "The emails are spam and should be reported", "Other"]
ROLE_MAILBOXES = ["info", "sales", "marketing", "office", "contact"]


def ascii_fold(text: str) -> str:
    """José -> Jose, Søren -> Soren, Łukasz -> Lukasz, Groß -> Gross (for building email local parts)."""
    special = {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "Ae", "đ": "d"}
    text = "".join(special.get(ch, ch) for ch in text)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def email_token(text: str) -> str:
    """A name as it appears in an email local part: folded, lower case, letters and hyphens only."""
    folded = ascii_fold(text).lower()
    return "".join(ch for ch in folded if ch.isalnum() or ch == "-").strip("-")


def one_char_typos(name: str, count: int = 3) -> list[str]:
    """Deterministic one-character edits of a name (swap, drop, double, substitute), as data entry produces."""
    variants: list[str] = []
    n = len(name)
    if n >= 4:
        i = n // 2
        variants.append(name[:i] + name[i + 1] + name[i] + name[i + 2:])  # transposition
        variants.append(name[: i + 1] + name[i + 2:])  # deletion
        variants.append(name[:i] + name[i] + name[i:])  # doubled letter
        j = max(1, n - 2)
        sub = "e" if name[j] != "e" else "a"
        variants.append(name[:j] + sub + name[j + 1:])  # substitution
    else:
        variants = [name + name[-1], name[:-1] + ("e" if name[-1] != "e" else "a"), name.lower()]
    variants = [v for v in variants if v != name] or [name + "e"]
    while len(variants) < count:
        variants.append(variants[-1])
    return variants[:count]
