//! Word lists for the demo data generator. Plain static data, no logic.
//!
//! Rules the generator relies on (checked by the tests below):
//! - company words (`ADJECTIVES`, `NOUNS`, `SUFFIXES`) are single ASCII-letter words, distinct
//!   case-insensitively within each list, so "<Adjective> <Noun> <Suffix>" names and their
//!   lowercase concatenations (the domains) are unique per combination;
//! - person names contain no digits, so a numeric suffix makes an email local part unique.

/// Given names (ASCII, so they can go into email addresses unchanged).
pub const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Charles",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Margaret",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Paul",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Ronald",
    "Rebecca",
    "Jason",
    "Sharon",
    "Edward",
    "Laura",
    "Jeffrey",
    "Cynthia",
    "Ryan",
    "Dorothy",
    "Jacob",
    "Amy",
    "Gary",
    "Kathleen",
    "Nicholas",
    "Angela",
    "Eric",
    "Shirley",
    "Jonathan",
    "Emma",
    "Stephen",
    "Brenda",
    "Larry",
    "Pamela",
    "Justin",
    "Nicole",
    "Scott",
    "Anna",
    "Brandon",
    "Samantha",
    "Benjamin",
    "Katherine",
    "Samuel",
    "Christine",
    "Gregory",
    "Debra",
    "Alexander",
    "Rachel",
    "Patrick",
    "Carolyn",
    "Frank",
    "Janet",
    "Raymond",
    "Maria",
    "Jack",
    "Olivia",
    "Dennis",
    "Heather",
    "Jerry",
    "Helen",
    "Tyler",
    "Catherine",
    "Aaron",
    "Diane",
    "Jose",
    "Julie",
    "Adam",
    "Victoria",
    "Nathan",
    "Joyce",
    "Henry",
    "Lauren",
    "Zachary",
    "Kelly",
    "Douglas",
    "Christina",
    "Peter",
    "Ruth",
    "Kyle",
    "Joan",
    "Noah",
    "Virginia",
    "Ethan",
    "Judith",
    "Jeremy",
    "Evelyn",
    "Christian",
    "Hannah",
    "Walter",
    "Andrea",
    "Keith",
    "Megan",
    "Austin",
    "Cheryl",
    "Roger",
    "Jacqueline",
    "Terry",
    "Madison",
    "Sean",
    "Sophia",
    "Gerald",
    "Abigail",
    "Carl",
    "Teresa",
    "Dylan",
    "Isabella",
    "Harold",
    "Sara",
    "Jordan",
    "Janice",
    "Jesse",
    "Julia",
    "Bryan",
    "Grace",
    "Lawrence",
    "Judy",
    "Arthur",
    "Theresa",
    "Gabriel",
    "Rose",
    "Bruce",
    "Beverly",
    "Logan",
    "Denise",
    "Albert",
    "Marilyn",
    "Willie",
    "Amber",
    "Alan",
    "Danielle",
    "Eugene",
    "Brittany",
    "Russell",
    "Diana",
    "Elijah",
    "Natalie",
    "Louis",
    "Priya",
    "Wei",
    "Aisha",
    "Hiroshi",
    "Fatima",
    "Mateo",
    "Ingrid",
    "Omar",
    "Chloe",
    "Raj",
    "Mei",
    "Luca",
    "Yuki",
    "Diego",
    "Leila",
];

/// Family names; a few carry an apostrophe or hyphen, which emails and slugs drop.
pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
    "Powell",
    "Jenkins",
    "Perry",
    "Russell",
    "Sullivan",
    "Bell",
    "Coleman",
    "Butler",
    "Henderson",
    "Barnes",
    "Gonzales",
    "Fisher",
    "Vasquez",
    "Simmons",
    "Romero",
    "Jordan",
    "Patterson",
    "Alexander",
    "Hamilton",
    "Graham",
    "Reynolds",
    "Griffin",
    "Wallace",
    "Moreno",
    "West",
    "Cole",
    "Hayes",
    "Bryant",
    "Herrera",
    "Gibson",
    "Ellis",
    "Tran",
    "Medina",
    "Aguilar",
    "Stevens",
    "Murray",
    "Ford",
    "Castro",
    "Marshall",
    "Owens",
    "Harrison",
    "Fernandez",
    "McDonald",
    "Woods",
    "Washington",
    "Kennedy",
    "Wells",
    "Vargas",
    "Henry",
    "Chen",
    "Freeman",
    "Webb",
    "Tucker",
    "Guzman",
    "Burns",
    "Crawford",
    "Olson",
    "Simpson",
    "Porter",
    "Hunter",
    "Gordon",
    "Mendez",
    "Silva",
    "Shaw",
    "Snyder",
    "Mason",
    "Dixon",
    "O'Brien",
    "O'Connor",
    "Smith-Jones",
    "Nakamura",
    "Kowalski",
    "Schmidt",
    "Novak",
    "Haddad",
    "Okafor",
    "Singh",
    "Wang",
    "Larsen",
];

/// First word of a generated company name.
pub const ADJECTIVES: &[&str] = &[
    "Blue",
    "Bright",
    "Swift",
    "Silver",
    "Golden",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Lofty",
    "Pioneer",
    "Prime",
    "Vivid",
    "Bold",
    "Clear",
    "Crimson",
    "Evergreen",
    "Granite",
    "Grand",
    "Horizon",
    "Iron",
    "Keystone",
    "Liberty",
    "Lunar",
    "Brave",
    "Meridian",
    "Nimble",
    "Noble",
    "Central",
    "Pacific",
    "Atlantic",
    "Polar",
    "Quantum",
    "Radiant",
    "Rapid",
    "Red",
    "Redwood",
    "Royal",
    "Sage",
    "Sapphire",
    "Scarlet",
    "Solar",
    "Sterling",
    "Civic",
    "Sunny",
    "True",
    "Union",
    "United",
    "Urban",
    "Elite",
    "Vertex",
    "Violet",
    "White",
    "Wild",
    "Zenith",
    "Amber",
    "Apex",
    "Arctic",
    "Aspen",
    "Azure",
    "Daring",
    "Cobalt",
    "Copper",
    "Coral",
    "Crystal",
    "Digital",
    "Emerald",
    "Fair",
    "First",
    "Forest",
    "Frontier",
    "Global",
    "Green",
    "Highland",
    "Indigo",
    "Jade",
    "Lakeside",
    "Modern",
    "Mountain",
    "Open",
    "Orange",
    "Quiet",
    "Pinnacle",
    "Precision",
    "Happy",
    "Rocky",
    "Smart",
    "Lucky",
    "Star",
    "Steady",
    "Strong",
    "Trusty",
    "Twin",
    "Vantage",
    "Velvet",
    "Wise",
];

/// Second word of a generated company name.
pub const NOUNS: &[&str] = &[
    "Harbor", "Peak", "River", "Bridge", "Forge", "Field", "Grove", "Ridge", "Path", "Point", "Crest", "Gate", "Light",
    "Wave", "Stone", "Tree", "Leaf", "Cloud", "Sky", "Wind", "Fox", "Hawk", "Bear", "Wolf", "Lion", "Eagle", "Owl",
    "Otter", "Heron", "Raven", "Falcon", "Comet", "Orbit", "Nova", "Pulse", "Signal", "Spark", "Beacon", "Anchor",
    "Compass", "Arrow", "Shield", "Tower", "Castle", "Haven", "Meadow", "Canyon", "Mesa", "Lake", "Bay", "Shore",
    "Island", "Valley", "Summit", "Trail", "Road", "Mill", "Works", "Foundry", "Loom", "Key", "Lock", "Ledger",
    "Vault", "Circuit", "Byte", "Pixel", "Vector", "Matrix", "Logic", "Sphere", "Prism", "Flame", "Ember", "Frost",
    "Storm", "Rain", "Tide", "Current", "Spring", "Well", "Root", "Seed", "Bloom", "Oak", "Pine", "Birch", "Willow",
    "Cedar", "Elm", "Maple", "Sparrow", "Finch", "Dove", "Crane", "Lynx",
];

/// Last word of a generated company name, with the industry it suggests (if any).
pub const SUFFIXES: &[(&str, Option<&str>)] = &[
    ("Inc", None),
    ("LLC", None),
    ("Group", None),
    ("Partners", None),
    ("Holdings", None),
    ("Corp", None),
    ("Co", None),
    ("Labs", Some("Technology")),
    ("Systems", Some("Technology")),
    ("Software", Some("Technology")),
    ("Technologies", Some("Technology")),
    ("Networks", Some("Technology")),
    ("Analytics", Some("Technology")),
    ("Solutions", Some("Technology")),
    ("Health", Some("Healthcare")),
    ("Medical", Some("Healthcare")),
    ("Clinics", Some("Healthcare")),
    ("Capital", Some("Finance")),
    ("Financial", Some("Finance")),
    ("Insurance", Some("Finance")),
    ("Retail", Some("Retail")),
    ("Outfitters", Some("Retail")),
    ("Markets", Some("Retail")),
    ("Industries", Some("Manufacturing")),
    ("Manufacturing", Some("Manufacturing")),
    ("Fabrication", Some("Manufacturing")),
    ("Logistics", None),
    ("Consulting", None),
    ("Media", None),
    ("Ventures", None),
];

/// How phone numbers are made up in a country. Every plan yields numbers from ranges its
/// regulator reserves for fiction (NANP 555-0100..0199, Ofcom's drama ranges, ACMA's
/// 5550/7010 blocks and listed mobiles), so demo data never rings a real person from a
/// click-to-call link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhonePlan {
    /// +1, the city's area code, 555-01xx.
    Nanp(&'static [u16]),
    /// A fixed E.164 prefix followed by `digits` random digits.
    Block { prefix: &'static str, digits: u32 },
    /// One of a list of E.164 numbers.
    List(&'static [&'static str]),
}

/// A city companies are placed in: (city, state or region, ISO 3166 country, landline plan).
pub struct City {
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    pub phone: PhonePlan,
}

const fn us(city: &'static str, state: &'static str, area_codes: &'static [u16]) -> City {
    City { city, state, country: "US", phone: PhonePlan::Nanp(area_codes) }
}

/// US cities first (`US_CITY_COUNT` of them); the generator picks a US city most of the time.
pub const CITIES: &[City] = &[
    us("New York", "NY", &[212, 646, 718, 917]),
    us("San Francisco", "CA", &[415, 628]),
    us("Los Angeles", "CA", &[213, 310, 323]),
    us("San Diego", "CA", &[619, 858]),
    us("San Jose", "CA", &[408, 669]),
    us("Seattle", "WA", &[206, 425]),
    us("Portland", "OR", &[503, 971]),
    us("Chicago", "IL", &[312, 773]),
    us("Boston", "MA", &[617, 857]),
    us("Austin", "TX", &[512, 737]),
    us("Dallas", "TX", &[214, 469, 972]),
    us("Houston", "TX", &[713, 832]),
    us("Denver", "CO", &[303, 720]),
    us("Atlanta", "GA", &[404, 678]),
    us("Miami", "FL", &[305, 786]),
    us("Orlando", "FL", &[407, 321]),
    us("Phoenix", "AZ", &[602, 480]),
    us("Minneapolis", "MN", &[612, 763]),
    us("Detroit", "MI", &[313, 248]),
    us("Philadelphia", "PA", &[215, 267]),
    us("Pittsburgh", "PA", &[412]),
    us("Washington", "DC", &[202]),
    us("Baltimore", "MD", &[410, 443]),
    us("Raleigh", "NC", &[919, 984]),
    us("Charlotte", "NC", &[704, 980]),
    us("Nashville", "TN", &[615, 629]),
    us("Columbus", "OH", &[614]),
    us("Cleveland", "OH", &[216]),
    us("Indianapolis", "IN", &[317]),
    us("Kansas City", "MO", &[816]),
    us("St. Louis", "MO", &[314]),
    us("Salt Lake City", "UT", &[801, 385]),
    us("Las Vegas", "NV", &[702]),
    us("Newark", "NJ", &[201, 973]),
    us("Milwaukee", "WI", &[414]),
    us("New Orleans", "LA", &[504]),
    City { city: "Toronto", state: "ON", country: "CA", phone: PhonePlan::Nanp(&[416, 647]) },
    City { city: "Vancouver", state: "BC", country: "CA", phone: PhonePlan::Nanp(&[604, 778]) },
    City { city: "Montreal", state: "QC", country: "CA", phone: PhonePlan::Nanp(&[514, 438]) },
    City {
        city: "London",
        state: "England",
        country: "GB",
        phone: PhonePlan::Block { prefix: "+442079460", digits: 3 },
    },
    City {
        city: "Belfast",
        state: "Northern Ireland",
        country: "GB",
        phone: PhonePlan::Block { prefix: "+442890180", digits: 3 },
    },
    City {
        city: "Cardiff",
        state: "Wales",
        country: "GB",
        phone: PhonePlan::Block { prefix: "+442920180", digits: 3 },
    },
    City { city: "Sydney", state: "NSW", country: "AU", phone: PhonePlan::Block { prefix: "+6125550", digits: 4 } },
    City { city: "Melbourne", state: "VIC", country: "AU", phone: PhonePlan::Block { prefix: "+6137010", digits: 4 } },
];

/// How many entries at the start of `CITIES` are in the US.
pub const US_CITY_COUNT: usize = 36;

/// Mobile plans by country, used for contacts' `mobile`. None for Britain: the
/// phonenumber crate rejects Ofcom's fictional mobile range (07700 900xxx), as it does
/// Manchester's (0161 496 0xxx), which is why only two-digit British area codes appear above.
pub fn mobile_plan(country: &str) -> Option<PhonePlan> {
    match country {
        "GB" => None,
        // ACMA lists single fictional mobile numbers rather than a block.
        "AU" => Some(PhonePlan::List(&[
            "+61491570006",
            "+61491570156",
            "+61491570157",
            "+61491570158",
            "+61491570159",
            "+61491570110",
        ])),
        "CA" => Some(PhonePlan::Nanp(&[416, 604, 514])),
        _ => Some(PhonePlan::Nanp(&[917, 415, 312, 617, 206, 512, 303, 404, 305, 213])),
    }
}

/// Landline plans by country, for contacts whose company is known only by its country.
pub fn landline_plan(country: &str) -> PhonePlan {
    CITIES.iter().find(|c| c.country == country).map_or(CITIES[0].phone, |c| c.phone)
}

pub const STREET_NAMES: &[&str] = &[
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Market",
    "Mission",
    "Broadway",
    "Church",
    "High",
    "King",
    "Queen",
    "Bridge",
    "Mill",
    "River",
    "Sunset",
    "Harbor",
    "Spring",
    "Valley",
    "Franklin",
    "Jefferson",
    "Lincoln",
    "Madison",
    "Union",
    "Commerce",
    "Innovation",
    "Technology",
    "Center",
    "Railroad",
    "Water",
    "Front",
];

pub const STREET_TYPES: &[&str] = &["St", "Ave", "Blvd", "Rd", "Way", "Dr", "Ln", "Pkwy", "Pl", "Ct"];

/// Job titles by department (the department names are `keel_domain::schema::DEPARTMENTS`).
pub const TITLES: &[(&str, &[&str])] = &[
    (
        "Sales",
        &[
            "VP of Sales",
            "Head of Sales",
            "Sales Director",
            "Account Executive",
            "Senior Account Executive",
            "Sales Manager",
            "Regional Sales Manager",
            "Business Development Manager",
            "Sales Operations Manager",
            "Chief Revenue Officer",
        ],
    ),
    (
        "Marketing",
        &[
            "Chief Marketing Officer",
            "VP of Marketing",
            "Head of Growth",
            "Marketing Manager",
            "Product Marketing Manager",
            "Demand Generation Manager",
            "Content Strategist",
            "Brand Manager",
            "Marketing Operations Lead",
        ],
    ),
    (
        "Engineering",
        &[
            "CTO",
            "VP of Engineering",
            "Head of Engineering",
            "Engineering Manager",
            "Senior Software Engineer",
            "Software Engineer",
            "IT Director",
            "Solutions Architect",
            "Head of Data",
            "DevOps Lead",
        ],
    ),
    (
        "HR",
        &[
            "Head of People",
            "HR Director",
            "HR Manager",
            "Talent Acquisition Lead",
            "People Operations Manager",
            "Recruiter",
        ],
    ),
    (
        "Other",
        &[
            "CEO",
            "COO",
            "CFO",
            "Founder",
            "Co-Founder",
            "President",
            "General Manager",
            "Operations Manager",
            "Procurement Manager",
            "Office Manager",
            "Finance Director",
            "Controller",
            "Head of Customer Success",
        ],
    ),
];

/// What deals are for: "<Product> for <Company>".
pub const PRODUCTS: &[&str] = &[
    "Enterprise License",
    "Starter Package",
    "Professional Plan",
    "Annual Subscription",
    "Platform Upgrade",
    "Support Renewal",
    "Pilot Program",
    "Seat Expansion",
    "Onboarding Services",
    "Data Migration",
    "Analytics Add-on",
    "Security Bundle",
    "Training Workshop",
    "Implementation Project",
    "Multi-year Renewal",
    "API Access Tier",
    "Premium Support",
    "Team Plan",
    "Integration Package",
    "Consulting Retainer",
];

/// Free-mail style domains for contacts without a company. Reserved by RFC 2606, so
/// nothing is ever delivered to them.
pub const PERSONAL_EMAIL_DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];

pub const CONTACT_NOTES: &[&str] = &[
    "Met at a trade show; interested in a demo for the wider team.",
    "Prefers email over phone. Best reached in the mornings.",
    "Decision maker for the renewal. Budget approved for next quarter.",
    "Introduced by a mutual customer. Warm lead.",
    "Evaluating two competitors; price is the main concern.",
    "Asked to be looped in on product roadmap updates.",
    "Champion internally; needs material to convince finance.",
    "On parental leave until next month; contact their deputy meanwhile.",
    "Technical evaluator. Wants API documentation and a sandbox account.",
    "Attended the webinar and downloaded the pricing guide.",
];

pub const DEAL_NOTES: &[&str] = &[
    "Legal review of the MSA in progress.",
    "Needs SSO and audit logs before signing.",
    "Competing against an incumbent vendor; renewal date drives timing.",
    "Budget confirmed by the CFO. Waiting on procurement.",
    "Asked for a 10% discount for a two-year commitment.",
    "Pilot with 20 seats first, then company-wide rollout.",
    "Security questionnaire sent back; follow up next week.",
    "Champion is leaving the company; identify a new sponsor.",
    "Multi-department rollout; start with the sales team.",
    "Requested a reference call with a customer in their industry.",
];

/// Subjects for activities about a person; `{name}` is the contact's full name.
pub const CONTACT_SUBJECTS: &[(&str, &str)] = &[
    ("Call", "Call with {name}"),
    ("Call", "Intro call with {name}"),
    ("Call", "Check in with {name}"),
    ("Email", "Email {name} the pricing sheet"),
    ("Email", "Send case study to {name}"),
    ("Email", "Follow-up email to {name}"),
    ("Meeting", "Meeting with {name}"),
    ("Meeting", "Lunch with {name}"),
    ("Meeting", "Product demo for {name}"),
    ("Note", "Notes from conversation with {name}"),
    ("Task", "Connect with {name} on LinkedIn"),
    ("Task", "Update {name}'s contact details"),
];

/// Subjects for activities about a deal; `{deal}` is the deal title.
pub const DEAL_SUBJECTS: &[(&str, &str)] = &[
    ("Call", "Pricing call: {deal}"),
    ("Call", "Negotiation call: {deal}"),
    ("Email", "Send proposal: {deal}"),
    ("Email", "Send contract: {deal}"),
    ("Meeting", "Contract review: {deal}"),
    ("Meeting", "Kick-off meeting: {deal}"),
    ("Note", "Deal review notes: {deal}"),
    ("Task", "Prepare quote: {deal}"),
    ("Task", "Follow up on {deal}"),
    ("Task", "Get legal approval: {deal}"),
];

/// Subjects for activities about a company; `{company}` is its name.
pub const COMPANY_SUBJECTS: &[(&str, &str)] = &[
    ("Call", "Account check-in with {company}"),
    ("Email", "Quarterly newsletter to {company}"),
    ("Meeting", "Quarterly business review with {company}"),
    ("Meeting", "On-site visit at {company}"),
    ("Note", "Account plan for {company}"),
    ("Task", "Research {company} org chart"),
    ("Task", "Update {company} account details"),
];

/// Descriptions by activity type (`keel_domain::schema::ACTIVITY_TYPES`).
pub const ACTIVITY_DESCRIPTIONS: &[(&str, &str)] = &[
    ("Call", "Discussed timeline and next steps."),
    ("Call", "Left a voicemail; try again in two days."),
    ("Call", "Walk through pricing tiers and answer security questions."),
    ("Email", "Shared the deck and the case study from a similar customer."),
    ("Email", "Attached the quote and the standard terms."),
    ("Meeting", "Agenda: current setup, pain points, success criteria."),
    ("Meeting", "They want to see the reporting features in detail."),
    ("Meeting", "Confirm attendees and send the calendar invite."),
    ("Note", "Key concerns: data migration and user training."),
    ("Note", "Budget is set annually in January; renewal talks start in Q4."),
    ("Task", "Bring the updated pricing and the security overview."),
    ("Task", "Check the CRM for open support tickets first."),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn assert_distinct_words(list: &[&str]) {
        let mut seen = HashSet::new();
        for w in list {
            assert!(w.bytes().all(|b| b.is_ascii_alphabetic()), "{w} is not one ASCII word");
            assert!(seen.insert(w.to_ascii_lowercase()), "{w} appears twice");
        }
    }

    #[test]
    fn company_words_are_distinct_single_ascii_words() {
        assert_distinct_words(ADJECTIVES);
        assert_distinct_words(NOUNS);
        let suffixes: Vec<&str> = SUFFIXES.iter().map(|(s, _)| *s).collect();
        assert_distinct_words(&suffixes);
    }

    #[test]
    fn no_word_is_both_an_adjective_and_a_noun() {
        for a in ADJECTIVES {
            assert!(!NOUNS.iter().any(|n| n.eq_ignore_ascii_case(a)), "{a}");
        }
    }

    #[test]
    fn suffix_industries_are_select_options() {
        for (_, industry) in SUFFIXES {
            if let Some(i) = industry {
                assert!(keel_domain::schema::INDUSTRIES.contains(i), "{i}");
            }
        }
    }

    #[test]
    fn the_first_us_city_count_cities_are_in_the_us_and_no_others_are() {
        for (i, c) in CITIES.iter().enumerate() {
            assert_eq!(c.country == "US", i < US_CITY_COUNT, "{}", c.city);
        }
    }

    #[test]
    fn person_names_have_no_digits() {
        for n in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(!n.bytes().any(|b| b.is_ascii_digit()), "{n}");
            assert!(n.is_ascii(), "{n}");
        }
    }

    #[test]
    fn every_department_has_titles_and_every_title_group_is_a_department() {
        for d in keel_domain::schema::DEPARTMENTS {
            assert!(TITLES.iter().any(|(dep, titles)| dep == d && !titles.is_empty()), "{d}");
        }
        for (dep, _) in TITLES {
            assert!(keel_domain::schema::DEPARTMENTS.contains(dep), "{dep}");
        }
    }

    #[test]
    fn every_activity_type_has_a_description() {
        for ty in keel_domain::schema::ACTIVITY_TYPES {
            assert!(ACTIVITY_DESCRIPTIONS.iter().any(|(t, _)| t == ty), "{ty}");
        }
    }

    #[test]
    fn subjects_use_only_activity_types_and_fit_in_the_subject_field() {
        for (ty, subject) in CONTACT_SUBJECTS.iter().chain(DEAL_SUBJECTS).chain(COMPANY_SUBJECTS) {
            assert!(keel_domain::schema::ACTIVITY_TYPES.contains(ty), "{ty}");
            assert!(subject.len() < 60, "{subject}");
        }
    }
}
