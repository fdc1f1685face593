"""Word lists the generator draws from: names, countries, cities, companies, titles, campaigns.

Everything here is small (hundreds of entries); per-record values are produced by indexing these lists with
numpy arrays, never by looping over records.
"""

from __future__ import annotations

import unicodedata

# ---- Person names -------------------------------------------------------------------------------------------
# Names are drawn per naming culture, in the culture's own spelling; a person's culture follows their country
# (COUNTRY_CULTURES) with a share from other cultures, as in real populations. Within a culture, names are
# listed roughly from the most to the least common and drawn with a Zipf-like skew (NAME_SKEW); surnames are
# the real list followed by surnames composed from the culture's own toponymic/occupational stems and endings
# (Ashford, Steinhauser, Dumoulin, Østergaard, Borowski, van der Heide...), which are rarer.

FIRST_NAMES_BY_CULTURE = {
    "en": [
        "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
        "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen",
        "Charles", "Nancy", "Daniel", "Lisa", "Matthew", "Margaret", "Anthony", "Sandra", "Mark", "Ashley",
        "Steven", "Kimberly", "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle", "Kevin", "Carol",
        "Brian", "Amanda", "Timothy", "Melissa", "Ronald", "Deborah", "Jonathan", "Stephanie", "Edward", "Rebecca",
        "Jason", "Sharon", "Jeffrey", "Laura", "Gregory", "Cynthia", "Alexander", "Katherine", "Benjamin",
        "Victoria", "Samuel", "Rachel", "Nicholas", "Hannah", "Patrick", "Olivia", "Peter", "Sophie", "Oliver",
        "Charlotte", "Harry", "Amelia", "George", "Isla", "Jack", "Grace", "Liam", "Emma", "Noah", "Mia", "Ethan",
        "Ava", "Lucas", "Scott", "Amy", "Eric", "Anna", "Stephen", "Angela", "Larry", "Helen", "Justin", "Brenda",
        "Frank", "Pamela", "Brandon", "Nicole", "Raymond", "Katie", "Gary", "Samantha", "Jacob", "Christine",
        "Dennis", "Debra", "Tyler", "Rachael", "Aaron", "Carolyn", "Jerry", "Janet", "Jose", "Catherine",
        "Adam", "Maria", "Nathan", "Heather", "Henry", "Diane", "Zachary", "Julie", "Douglas", "Joyce", "Kyle",
        "Evelyn", "Noel", "Joan", "Walter", "Virginia", "Bethany", "Judith", "Jeremy", "Megan", "Harold", "Andrea",
        "Keith", "Cheryl", "Christian", "Hayley", "Roger", "Jacqueline", "Terry", "Martha", "Sean", "Gloria",
        "Austin", "Teresa", "Gerald", "Ann", "Carl", "Madison", "Dylan", "Frances", "Harrison", "Kathryn",
        "Arthur", "Abigail", "Lawrence", "Sophia", "Jordan", "Alice", "Jesse", "Julia", "Bryan", "Judy",
        "Billy", "Isabella", "Bruce", "Marie", "Gabriel", "Lauren", "Logan", "Ella", "Alan", "Chloe", "Juan",
        "Natalie", "Wayne", "Lily", "Ralph", "Holly", "Roy", "Jade", "Eugene", "Poppy", "Russell", "Freya",
        "Bobby", "Evie", "Mason", "Phoebe", "Philip", "Ruby", "Louis", "Florence", "Callum", "Imogen", "Connor",
        "Eleanor", "Owen", "Millie", "Rhys", "Erin", "Aoife", "Niamh", "Ciarán", "Seán", "Siobhán", "Eoin",
        "Saoirse", "Cillian", "Róisín", "Declan", "Orla", "Fergus", "Isobel", "Angus", "Eilidh", "Hamish",
    ],
    "de": [
        "Lukas", "Anna", "Maximilian", "Lena", "Felix", "Leonie", "Jonas", "Katharina", "Matthias", "Julia",
        "Jürgen", "Sabine", "Jörg", "Petra", "Thomas", "Andrea", "Michael", "Claudia", "Stefan", "Susanne",
        "Andreas", "Birgit", "Christian", "Nicole", "Markus", "Stefanie", "Tobias", "Sandra", "Florian",
        "Kathrin", "Sebastian", "Melanie", "Daniel", "Anja", "Alexander", "Martina", "Uwe", "Monika", "Frank",
        "Ursula", "Dieter", "Renate", "Klaus", "Brigitte", "Wolfgang", "Heike", "Rainer", "Gabriele", "Bernd",
        "Karin", "Ralf", "Silke", "Holger", "Ute", "Dirk", "Franziska", "Björn", "Zoë", "Ümit", "Niklas",
        "Hannah", "Paul", "Marie", "Leon", "Sophie", "Finn", "Johanna", "Moritz", "Carina", "Timo", "Jana",
        "Henrik", "Lea", "Jannik", "Miriam", "Benedikt", "Theresa", "Dominik", "Vanessa", "Patrick", "Annika",
        "Sven", "Friederike", "Götz", "Jutta", "Günter", "Hildegard", "Hans", "Gisela", "Helmut", "Ingrid",
    ],
    "fr": [
        "Jean", "Marie", "Pierre", "Nathalie", "Michel", "Isabelle", "Philippe", "Sylvie", "Alain", "Catherine",
        "Nicolas", "Christine", "François", "Sophie", "Laurent", "Valérie", "Julien", "Céline", "Sébastien",
        "Stéphanie", "Frédéric", "Sandrine", "Christophe", "Véronique", "Olivier", "Aurélie", "Thierry", "Julie",
        "Éric", "Émilie", "Jérôme", "Caroline", "Benoît", "Amélie", "Guillaume", "Hélène", "Antoine", "Camille",
        "Mathieu", "Élodie", "Maxime", "Léa", "Thomas", "Chloé", "Hugo", "Manon", "Théo", "Noémie", "Louis",
        "Inès", "Arthur", "Clémence", "Raphaël", "Margaux", "Gabriel", "Océane", "Baptiste", "Anaïs", "Quentin",
        "Pauline", "Romain", "Mathilde", "Vincent", "Lucie", "Damien", "Agnès", "Cédric", "Brigitte", "Yannick",
        "Geneviève", "Gaël", "Solène", "Loïc", "Maëlle", "Hervé", "Josiane",
    ],
    "es": [
        "José", "María", "Antonio", "Carmen", "Manuel", "Josefa", "Francisco", "Isabel", "David", "Ana", "Juan",
        "Laura", "Javier", "Lucía", "Daniel", "Cristina", "Carlos", "Marta", "Jesús", "Dolores", "Alejandro",
        "Pilar", "Miguel", "Sofía", "Rafael", "Elena", "Pablo", "Raquel", "Sergio", "Rosa", "Fernando", "Silvia",
        "Jorge", "Paula", "Alberto", "Beatriz", "Luis", "Patricia", "Álvaro", "Inés", "Ángel", "Núria", "Andrés",
        "Mercedes", "Martín", "Alba", "Diego", "Irene", "Adrián", "Nerea", "Iván", "Rocío", "Rubén", "Montserrat",
        "Óscar", "Encarnación", "Ramón", "Consuelo", "Joaquín", "Ainhoa", "Iñaki", "Begoña", "Jordi", "Maite",
        "Gonzalo", "Noelia", "Hugo", "Claudia",
    ],
    "pt": [
        "João", "Maria", "José", "Ana", "Pedro", "Francisca", "Lucas", "Antônia", "Gabriel", "Adriana", "Rafael",
        "Juliana", "Gonçalo", "Beatriz", "Thiago", "Mariana", "Matheus", "Fernanda", "Gustavo", "Patrícia",
        "Felipe", "Aline", "Bruno", "Camila", "Rodrigo", "Letícia", "Leonardo", "Larissa", "Eduardo", "Amanda",
        "Vinícius", "Bruna", "André", "Luana", "Marcelo", "Vitória", "Ricardo", "Débora", "Paulo", "Sônia",
        "Fábio", "Cláudia", "Diogo", "Inês", "Tiago", "Raquel", "Caio", "Luíza", "Henrique", "Isabela",
        "Sebastião", "Conceição", "Joaquim", "Graça",
    ],
    "nl": [
        "Pieter", "Anna", "Jan", "Maria", "Daan", "Sanne", "Joost", "Femke", "Lars", "Anouk", "Sem", "Eva", "Bram",
        "Lotte", "Thijs", "Fleur", "Ruben", "Lieke", "Jeroen", "Marieke", "Bas", "Esther", "Niels", "Ingrid",
        "Wouter", "Sophie", "Koen", "Annemieke", "Sjoerd", "Mirjam", "Hendrik", "Willemijn", "Gert", "Ilse",
        "Maarten", "Saskia", "Stijn", "Roos", "Arjen", "Janneke", "Tim", "Floor", "Luuk", "Noor", "Gijs",
        "Marloes", "Rutger", "Tessa", "Teun", "Hanneke",
    ],
    "da": [
        "Søren", "Mette", "Rasmus", "Freja", "Mads", "Astrid", "Jens", "Sigrid", "Lars", "Anne", "Niels",
        "Kirsten", "Peter", "Hanne", "Henrik", "Susanne", "Anders", "Lene", "Morten", "Camilla", "Jesper",
        "Louise", "Mikkel", "Ida", "Frederik", "Sofie", "Christian", "Maja", "Kasper", "Emma", "Thomas", "Karen",
        "Jakob", "Line", "Martin", "Julie", "Bo", "Tove", "Kristian", "Birgitte", "Esben", "Signe", "Torben",
        "Dorthe", "Asger", "Ane", "Troels", "Rikke", "Ulrik", "Pernille",
    ],
    "pl": [
        "Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Krzysztof", "Zofia", "Wojciech", "Katarzyna", "Tomasz",
        "Joanna", "Piotr", "Anna", "Andrzej", "Maria", "Jan", "Barbara", "Michał", "Ewa", "Marcin", "Magdalena",
        "Jakub", "Monika", "Grzegorz", "Dorota", "Adam", "Aleksandra", "Marek", "Natalia", "Rafał", "Karolina",
        "Mateusz", "Justyna", "Kamil", "Paulina", "Dariusz", "Beata", "Mariusz", "Marta", "Jacek", "Iwona",
        "Przemysław", "Urszula", "Sławomir", "Bożena", "Zbigniew", "Jadwiga", "Stanisław", "Halina",
        "Bartłomiej", "Weronika",
    ],
    "in": [
        "Priya", "Arjun", "Ananya", "Rahul", "Aarav", "Divya", "Vikram", "Neha", "Rohan", "Pooja", "Amit",
        "Sneha", "Sanjay", "Kavya", "Aditya", "Deepika", "Karthik", "Lakshmi", "Suresh", "Meera", "Rajesh",
        "Anjali", "Vivek", "Shreya", "Arun", "Nisha", "Harish", "Swati", "Manoj", "Aishwarya", "Nikhil",
        "Ritu", "Siddharth", "Pallavi", "Varun", "Sunita", "Ravi", "Asha", "Gaurav", "Isha", "Abhishek", "Bhavna", "Chetan", "Devika", "Hemant", "Jyoti", "Kiran",
        "Madhuri", "Naveen", "Preeti", "Rajiv", "Sangeeta", "Tarun", "Usha", "Vijay", "Yamini", "Anand", "Geeta",
        "Mohan", "Radhika", "Sunil", "Tanvi",
    ],
    "zh": [
        "Wei", "Chen", "Jing", "Li", "Ming", "Xiaoming", "Yan", "Hui", "Jun", "Lei", "Fang", "Ying", "Hao",
        "Xin", "Yu", "Tao", "Qing", "Lin", "Bo", "Mei", "Zhiwei", "Xiaoling", "Jian", "Na", "Yong", "Ling",
        "Peng", "Hong", "Kai", "Shan",
    ],
    "ja": [
        "Hiroshi", "Yuki", "Takashi", "Yoko", "Kenji", "Akiko", "Satoshi", "Keiko", "Daisuke", "Naoko",
        "Haruto", "Sakura", "Kazuki", "Aiko", "Ryo", "Emi", "Shota", "Mai", "Takumi", "Yui",
    ],
    "ko": [
        "Min-jun", "Ji-woo", "Seo-yeon", "Ji-hoon", "Hyun-woo", "Soo-jin", "Jae-won", "Eun-ji", "Dong-hyun",
        "Ha-eun", "Sung-min", "Ye-jin", "Joon-ho", "Mi-young",
    ],
    "vi": ["Minh", "Linh", "Anh", "Huong", "Duc", "Thao", "Tuan", "Lan", "Hung", "Trang", "Quang", "Ngoc",
           "Khoa", "Phuong", "Long", "Hanh", "Thanh", "Mai", "Nam", "Vy", "Bao", "Hoa"],
    "ar": [
        "Mohammed", "Fatima", "Ahmed", "Aisha", "Omar", "Layla", "Yusuf", "Mariam", "Ali", "Noor", "Hassan",
        "Zainab", "Khalid", "Huda", "Ibrahim", "Amira", "Karim", "Salma", "Tariq", "Yasmin", "Mustafa", "Rania", "Bilal", "Dina", "Faisal", "Ghada", "Hamza", "Iman",
        "Jamal", "Lina", "Nabil", "Reem", "Samir", "Hala", "Walid", "Yara", "Ziad", "Nadia", "Adel", "Mona",
    ],
}

SURNAMES_BY_CULTURE = {
    "en": [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
        "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
        "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson",
        "Carter", "Mitchell", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards",
        "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed",
        "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett",
        "Gray", "Hughes", "Price", "Sanders", "Myers", "Long", "Ross", "Foster", "Powell", "Jenkins", "Perry",
        "Russell", "Sullivan", "Fisher", "Henderson", "Coleman", "Simmons", "Patterson", "Jordan", "Reynolds",
        "Hamilton", "Graham", "Wallace", "Woods", "Cole", "West", "Owens", "Marshall", "Ellis", "Gibson",
        "McDonald", "Kennedy", "Wells", "Warren", "Dixon", "Burns", "Gordon", "Shaw", "Holmes", "Rice", "Hunt",
        "Black", "Daniels", "Palmer", "Mills", "Grant", "Knight", "Ferguson", "Stone", "Hawkins", "Dunn",
        "Perkins", "Hudson", "Spencer", "Stephens", "Pierce", "Hart", "Boyd", "Fox", "Lane", "Webb", "Tucker",
        "Porter", "Hunter", "Hicks", "Crawford", "Henry", "Mason", "Matthews", "Armstrong", "Carpenter",
        "Weaver", "Greene", "Lawrence", "Elliott", "Chapman", "Walsh", "Bishop", "Barnes", "Fletcher", "Harper",
        "Lloyd", "Davies", "Jones-Parry", "Griffiths", "Hall", "Wilkinson", "Clarke", "Jackman", "Lee", "Harrison",
        "Knowles", "Atkinson", "Booth", "Pearson", "Barker", "Dawson", "Newton", "Chambers", "Payne", "Bates",
        "Page", "Holland", "Lamb", "Fraser", "Cameron", "Sinclair", "Murray", "Reid", "MacDonald", "MacLeod",
        "McKenzie", "Robertson", "Paterson", "Kerr", "Buchanan", "O'Brien", "O'Connor", "O'Sullivan", "McCarthy",
        "Byrne", "Doyle", "Ryan", "O'Neill", "Quinn", "Gallagher", "Kavanagh", "Brennan", "Dunne", "Nolan",
        "Flanagan", "Ní Bhriain", "Ó Súilleabháin", "Whitfield", "Ashworth", "Blackwood", "Hargreaves",
    ],
    "de": [
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
        "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
        "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
        "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
        "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel",
        "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann",
        "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher",
        "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas",
        "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl", "Engel", "Horn", "Busch",
        "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer", "Müller-Lüdenscheidt",
    ],
    "fr": [
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
        "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
        "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
        "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier",
        "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly",
        "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand",
        "Dufour", "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin",
        "Fernandez", "Bérubé", "Tremblay", "Gagnon", "Côté", "Bouchard", "Pelletier", "Lévesque",
    ],
    "es": [
        "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
        "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso",
        "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco",
        "Molina", "Morales", "Suárez", "Ortega", "Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez",
        "Iglesias", "Medina", "Garrido", "Cortés", "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto",
        "Méndez", "Cruz", "Calvo", "Gallego", "Vidal", "León", "Márquez", "Herrera", "Peña", "Flores", "Cabrera",
        "Campos", "Vega", "Fuentes", "Carrasco", "Diez", "Caballero", "Reyes", "Nieto", "Aguilar", "Pascual",
        "Santana", "Herrero", "Lorenzo", "Montero", "Hidalgo", "Giménez", "Ibáñez", "Ferrer", "Durán",
        "Santiago", "Benítez", "Mora", "Vicente", "Vargas", "Arias", "Carmona", "Crespo", "Román", "Pastor",
        "Soto", "Sáez", "Velasco", "Moya", "Soler", "Parra", "Esteban", "Bravo", "Gallardo", "Rojas", "Castaño",
        "Echeverría", "Etxebarria", "Puig", "Vilaró", "Martín-Sánchez", "García-López", "Fernández-Castro",
    ],
    "pt": [
        "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
        "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira",
        "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques", "Machado", "Mendes",
        "Freitas", "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira", "Araújo", "Correia", "Pinto",
        "Cavalcanti", "Monteiro", "Moura", "Azevedo", "Batista", "Campos", "Coelho", "Cunha", "Duarte", "Fonseca",
        "Guimarães", "Leite", "Magalhães", "Medeiros", "Miranda", "Nogueira", "Peixoto", "Queiroz", "Rezende",
        "Sampaio", "Siqueira", "Tavares", "Vasconcelos", "Xavier", "da Silva", "dos Santos", "de Souza",
        "da Costa", "de Oliveira", "do Nascimento", "da Rocha", "de Almeida", "Brandão", "Camargo", "Falcão",
    ],
    "nl": [
        "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
        "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
        "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs",
        "de Haan", "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin",
        "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet", "van de Ven", "Hoekstra", "Maas",
        "Verhoeven", "Koster", "van Dam", "van der Wal", "Prins", "Blom", "Huisman", "Peeters", "de Lange",
        "Kuipers", "van Wijk", "Post", "Kuiper", "Veenstra", "Kramer", "van den Brink", "Scholten", "van Wijngaarden",
    ],
    "da": [
        "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen",
        "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Christiansen", "Poulsen",
        "Johansen", "Møller", "Mortensen", "Knudsen", "Jakobsen", "Mikkelsen", "Olesen", "Frederiksen", "Laursen",
        "Henriksen", "Lund", "Holm", "Schmidt", "Eriksen", "Kristiansen", "Simonsen", "Clausen", "Svendsen",
        "Andreasen", "Iversen", "Jeppesen", "Mogensen", "Jacobsen", "Vestergaard", "Nissen", "Lauridsen",
        "Kjær", "Dahl", "Bach", "Friis", "Bruun", "Skov", "Juhl", "Krogh", "Jørgensen-Møller",
    ],
    "pl": [
        "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
        "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Wojciechowski", "Kwiatkowski",
        "Krawczyk", "Kaczmarek", "Piotrowski", "Grabowski", "Zając", "Pawłowski", "Michalski", "Król",
        "Wieczorek", "Jabłoński", "Wróbel", "Nowakowski", "Majewski", "Olszewski", "Stępień", "Malinowski",
        "Jaworski", "Adamczyk", "Dudek", "Nowicki", "Pawlak", "Górski", "Witkowski", "Walczak", "Sikora",
        "Baran", "Rutkowski", "Michalak", "Szewczyk", "Ostrowski", "Tomaszewski", "Pietrzak", "Zalewski",
        "Wróblewski", "Kowalska", "Nowakowska", "Wiśniewska", "Szymańska", "Lewandowska", "Zielińska",
        "Nowak-Kowalska", "Lewandowska-Zając",
    ],
    "in": [
        "Patel", "Sharma", "Singh", "Kumar", "Gupta", "Shah", "Mehta", "Reddy", "Rao", "Iyer", "Nair", "Joshi",
        "Desai", "Agarwal", "Verma", "Chopra", "Kapoor", "Malhotra", "Bose", "Banerjee", "Chatterjee",
        "Mukherjee", "Das", "Ghosh", "Pillai", "Menon", "Krishnan", "Subramanian", "Venkatesan", "Srinivasan",
        "Bhat", "Kulkarni", "Patil", "Jain", "Saxena", "Trivedi", "Pandey", "Mishra", "Tiwari", "Chauhan",
        "Yadav", "Thakur", "Bhatt", "Naidu", "Chowdhury", "Sinha", "Arora", "Khanna", "Sethi", "Goel",
        "Acharya", "Ahuja", "Bajaj", "Bhardwaj", "Chandra", "Dutta", "Gandhi", "Hegde", "Kamath", "Kaur",
        "Lal", "Mathur", "Nanda", "Oberoi", "Prasad", "Raghavan", "Ramesh", "Sarkar", "Shetty", "Talwar",
        "Unnikrishnan", "Vaidya", "Walia", "Bhattacharya", "Ganguly", "Iyengar", "Kohli", "Luthra", "Misra",
        "Pathak",
    ],
    "zh": [
        "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
        "Hu", "Guo", "He", "Lin", "Gao", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng",
        "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai", "Jiang", "Yu", "Du", "Wong",
        "Chan", "Leung", "Cheung", "Lau", "Ng", "Tan", "Lim", "Lee", "Ho",
    ],
    "ja": [
        "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato",
        "Yoshida", "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue", "Kimura", "Hayashi", "Shimizu",
        "Yamazaki", "Mori", "Abe", "Ikeda", "Hashimoto", "Yamashita", "Ishikawa", "Nakajima", "Maeda", "Fujita",
        "Ogawa", "Goto", "Okada", "Hasegawa", "Murakami", "Kondo", "Ishii", "Saito", "Sakamoto", "Endo", "Aoki",
    ],
    "ko": ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh", "Seo", "Shin",
           "Kwon", "Hwang", "Ahn", "Song", "Yoo", "Hong"],
    "vi": ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Huynh", "Phan", "Vu", "Vo", "Dang", "Bui", "Do", "Ho",
           "Ngo", "Duong", "Ly", "Trinh", "Dinh", "Lam", "Mai", "Truong", "Cao", "Ha", "Luong", "Quach", "Ta"],
    "ar": [
        "Khan", "Ali", "Hassan", "Hussein", "Ahmed", "Mohamed", "Ibrahim", "Abdullah", "Mahmoud", "Said",
        "Haddad", "Khalil", "Nasser", "Saleh", "Aziz", "Rahman", "Farouk", "Mansour", "Haddadi", "Karimi",
        "El-Amin", "Al-Masri", "Al-Sayed", "Bakr", "Darwish", "Hamdan", "Issa", "Jaber", "Kassem", "Yousef",
        "Abbas", "Al-Hashimi", "Al-Khatib", "Al-Najjar", "Ashour", "Awad", "Barakat", "Bishara", "El-Sayed",
        "Fadel", "Ghanem", "Habib", "Hijazi", "Kanaan", "Khoury", "Maalouf", "Najjar", "Qasim", "Rashid",
        "Sabbagh", "Shaheen", "Suleiman", "Taha", "Zaki", "Zaidan", "Hamoud", "Odeh", "Sharif", "Tamimi",
        "Yassin",
    ],
}

# Stems and endings from which each culture's rarer surnames are composed (only cultures whose surnames are
# built this way: toponymic and occupational compounds). Empty stems are not used.
SURNAME_PARTS = {
    "en": (
        ["Ash", "Brad", "Brom", "Bur", "Cal", "Chad", "Clay", "Craw", "Dal", "Dun", "East", "Elling", "Fair",
         "Farn", "Gar", "Gold", "Hal", "Ham", "Hart", "Hay", "Hol", "Hun", "Kel", "Ken", "Kings", "Lang", "Lind",
         "Mar", "Mid", "Mor", "New", "North", "Pen", "Ram", "Red", "Rid", "Rut", "Shel", "Stan", "Stock",
         "Sud", "Thorn", "Tre", "War", "Wel", "West", "Whit", "Wind", "Wy", "Bar", "Black", "Brook", "Cran",
         "Hather", "Lock", "Mans", "Pem", "Rams", "Ship", "Stam", "Sut", "Wal", "Wake", "Ather", "Bel", "Chel"],
        ["ford", "ley", "ton", "wood", "field", "worth", "by", "well", "more", "combe", "den", "ham", "bury",
         "stone", "dale", "hurst", "wick", "land", "cliffe", "brook", "bridge", "shaw", "ington", "thorpe"],
    ),
    "de": (
        ["Acker", "Alt", "Bach", "Baum", "Berg", "Birn", "Blum", "Brand", "Brück", "Busch", "Dorn", "Eich",
         "Eisen", "Engel", "Fels", "Fried", "Gold", "Grün", "Hag", "Heid", "Hell", "Hirsch", "Hoch", "Hof",
         "Holz", "Kirch", "Kron", "Linden", "Löwen", "Mühl", "Neu", "Ober", "Ried", "Rosen", "Sand", "Schön",
         "Seel", "Stein", "Sturm", "Tann", "Wald", "Wester", "Wies", "Zimmer", "Bären", "Buchen", "Erlen",
         "Fichten", "Haber", "Kessel", "Lerchen", "Moos", "Reh", "Sonnen", "Stock", "Straß", "Tal", "Unter"],
        ["mann", "berg", "feld", "bauer", "hofer", "meier", "er", "stein", "hausen", "bach", "dorf", "burg",
         "thal", "huber", "brunner", "ecker", "linger", "müller", "schmid", "wald", "hauser", "reiter"],
    ),
    "fr": (
        ["Du", "De", "La", "Beau", "Bon", "Grand", "Ville", "Haut", "Mal", "Lon"],
        ["mont", "bois", "pont", "val", "champ", "fort", "lac", "roche", "pré", "chêne", "moulin", "château",
         "pin", "bourg", "lieu", "clos", "mas", "mesnil", "fosse", "marais", "puy", "fay", "noyer", "cour"],
    ),
    "nl": (
        ["van ", "van der ", "van de ", "van den ", "ter ", "ten "],
        ["Dijk", "Berg", "Leeuwen", "Dam", "Vliet", "Beek", "Wijk", "Veen", "Broek", "Heuvel", "Hout", "Straten",
         "Velde", "Meer", "Rijn", "Zanden", "Hoven", "Doorn", "Bosch", "Gool", "Loon", "Buren", "Aalst", "Houten",
         "Ommen", "Gils", "Haar", "Kamp", "Horst", "Laar", "Heide", "Hoek", "Poel", "Sluis", "Weide", "Wetering"],
    ),
    "da": (
        ["Øster", "Vester", "Nør", "Sønder", "Kjær", "Lind", "Ny", "Bjerre", "Holm", "Ravn", "Ege", "Mølle",
         "Hvid", "Dam", "Skov", "Bro", "Sko", "Lille", "Store", "Kirke", "Tof", "Ager", "Birke", "Søn"],
        ["gaard", "holm", "lund", "berg", "skov", "dal", "bæk", "strup", "by", "høj", "toft", "sted"],
    ),
    "pl": (
        ["Bor", "Brzez", "Dąbr", "Gór", "Jasien", "Kamien", "Las", "Lip", "Młyn", "Ostr", "Pias", "Pol", "Sad",
         "Sosn", "Staw", "Wierzb", "Wol", "Zales", "Zawad", "Żelaz", "Grab", "Jastrzęb", "Kos", "Krzyw", "Lis",
         "Mak", "Orł", "Pacz", "Rogal", "Sobol", "Trzcin", "Wilcz", "Zabł", "Czarn", "Cieśl", "Biał"],
        ["owski", "owska", "ewski", "ewska", "iak", "czyk", "ecki", "ecka", "ik", "ko"],
    ),
}

# naming cultures of each country's residents (shares); the rest of the world's cultures appear everywhere
COUNTRY_CULTURES = {
    "US": {"en": 0.74, "es": 0.09, "in": 0.04, "zh": 0.03, "de": 0.02, "ko": 0.015, "vi": 0.015, "ar": 0.015,
           "pl": 0.01, "fr": 0.01, "ja": 0.005, "pt": 0.005, "nl": 0.005},
    "GB": {"en": 0.84, "in": 0.06, "pl": 0.025, "ar": 0.025, "zh": 0.015, "fr": 0.01, "de": 0.01, "es": 0.01,
           "pt": 0.005},
    "DE": {"de": 0.86, "pl": 0.03, "ar": 0.03, "en": 0.02, "fr": 0.01, "es": 0.01, "nl": 0.01, "da": 0.01,
           "in": 0.01},
    "FR": {"fr": 0.87, "ar": 0.05, "es": 0.02, "pt": 0.02, "en": 0.015, "de": 0.01, "vi": 0.01, "zh": 0.005},
    "ES": {"es": 0.9, "pt": 0.02, "ar": 0.03, "en": 0.02, "fr": 0.01, "de": 0.01, "zh": 0.01},
    "NL": {"nl": 0.86, "ar": 0.03, "de": 0.03, "en": 0.03, "in": 0.02, "pl": 0.01, "fr": 0.01, "da": 0.01},
    "DK": {"da": 0.88, "de": 0.03, "en": 0.03, "nl": 0.01, "pl": 0.02, "ar": 0.02, "in": 0.01},
    "PL": {"pl": 0.95, "de": 0.02, "en": 0.02, "fr": 0.01},
    "IE": {"en": 0.88, "pl": 0.04, "in": 0.03, "pt": 0.02, "es": 0.01, "fr": 0.01, "zh": 0.01},
    "CA": {"en": 0.62, "fr": 0.2, "zh": 0.05, "in": 0.05, "es": 0.02, "ar": 0.02, "ko": 0.01, "vi": 0.01,
           "pt": 0.01, "de": 0.01},
    "AU": {"en": 0.8, "zh": 0.06, "in": 0.04, "vi": 0.02, "de": 0.01, "es": 0.01, "ko": 0.01, "ja": 0.01,
           "ar": 0.02, "nl": 0.01, "pl": 0.01},
    "BR": {"pt": 0.92, "es": 0.03, "ja": 0.02, "de": 0.01, "ar": 0.01, "en": 0.01},
}
# Zipf-like draw within a culture's list: weight of the name of rank r (0 = first) is (r + shift) ** -exponent
NAME_SKEW = {"first": (25.0, 0.85), "last": (150.0, 0.85)}
# a share of persons carry a double-barrelled surname (two of their culture's surnames, hyphenated)
HYPHENATED_CULTURES = {"en": 0.02, "de": 0.02, "es": 0.06, "pt": 0.0, "fr": 0.015, "da": 0.01, "pl": 0.01,
                       "nl": 0.0}
HYPHENATED_PER_CULTURE = 120


def composed_surnames(culture: str) -> list[str]:
    """The culture's composed surnames (stem x ending), in a fixed order, without the real ones."""
    if culture not in SURNAME_PARTS:
        return []
    stems, endings = SURNAME_PARTS[culture]
    real = set(SURNAMES_BY_CULTURE[culture])
    out: list[str] = []
    # by diagonals of the stem x ending grid, so the commoner stems and endings come first
    for d in range(len(stems) + len(endings) - 1):
        for i in range(max(0, d - len(endings) + 1), min(d + 1, len(stems))):
            s, e = stems[i], endings[d - i]
            if culture != "nl" and s[-1:].lower() == e[:1]:  # no doubled letter at the join
                continue
            name = s + e
            if name not in real and name not in out:
                out.append(name)
    return out


def surnames(culture: str) -> list[str]:
    """All surnames of a culture: the real list first (most common first), then the composed ones."""
    return list(SURNAMES_BY_CULTURE[culture]) + composed_surnames(culture)


def hyphenated_surnames(culture: str) -> list[str]:
    """Double-barrelled surnames from pairs of the culture's commoner surnames (deterministic)."""
    base = [s for s in surnames(culture) if "-" not in s and " " not in s][:200]
    out: list[str] = []
    k = 0
    while len(out) < HYPHENATED_PER_CULTURE and base:
        a, b = base[k % len(base)], base[(k * 7 + 3) % len(base)]
        if a != b and f"{a}-{b}" not in out:
            out.append(f"{a}-{b}")
        k += 1
        if k > 10 * HYPHENATED_PER_CULTURE:
            break
    return out


def _unique(values):
    seen: set[str] = set()
    return [v for v in values if not (v in seen or seen.add(v))]


CULTURES = list(FIRST_NAMES_BY_CULTURE)
# flat lists (an entry can belong to several cultures: Anna, Martin, Lee)
FIRST_NAMES = _unique(n for c in CULTURES for n in FIRST_NAMES_BY_CULTURE[c])
LAST_NAMES = _unique(n for c in CULTURES for n in surnames(c))
HYPHENATED_LAST_NAMES = _unique(n for c in CULTURES if HYPHENATED_CULTURES.get(c) for n in hyphenated_surnames(c)
                                if n not in set(LAST_NAMES))


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
# the Purchase_Timeframe__c picklist, nearest first
TIMEFRAMES = ["Immediately", "1-3 months", "3-6 months", "6-12 months", "Next year", "No timeframe"]
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
    "Pricing and Packaging Explained: Which Touchplan Plan Fits", "The ROI of Contact Planning: A Customer Case",
    "Implementation Workshop: Your First 30 Days", "Migration Clinic: Moving from Spreadsheets and Legacy CRMs",
    "Live Demo: Campaign Planning with Contact Rules", "Ask the Experts: Deliverability in 2026",
    "Customer Story: Doubling Webinar Attendance", "Implementation Q&A: Connecting Salesforce and HubSpot",
    "Product Demo: Lead Scoring and Sales Hand-off", "Roundtable: Measuring Uplift with Holdouts",
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
