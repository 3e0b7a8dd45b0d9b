//! Apple's pass.json vocabulary: the top-level keys, styles, field groups, field keys and the
//! values their enumerated keys allow.

pub const STYLES: [&str; 5] = ["boardingPass", "coupon", "eventTicket", "generic", "storeCard"];

/// Keys the server writes into every pass; a template must not set them.
pub(super) const SERVER_OWNED: [&str; 3] = ["serialNumber", "authenticationToken", "webServiceURL"];

pub(super) const TOP_LEVEL: &[&str] = &[
    "formatVersion",
    "passTypeIdentifier",
    "teamIdentifier",
    "organizationName",
    "description",
    "logoText",
    "foregroundColor",
    "backgroundColor",
    "labelColor",
    "footerBackgroundColor",
    "suppressStripShine",
    "sharingProhibited",
    "groupingIdentifier",
    "barcode",
    "barcodes",
    "beacons",
    "locations",
    "maxDistance",
    "relevantDate",
    "relevantDates",
    "expirationDate",
    "voided",
    "appLaunchURL",
    "associatedStoreIdentifiers",
    "userInfo",
    "nfc",
    "semantics",
    "preferredStyleSchemes",
    "useAutomaticColors",
    "suppressHeaderDarkening",
    "eventLogoText",
    "accessibilityURL",
    "addOnURL",
    "bagPolicyURL",
    "contactVenueEmail",
    "contactVenuePhoneNumber",
    "contactVenueWebsite",
    "directionsInformationURL",
    "merchandiseURL",
    "orderFoodURL",
    "parkingInformationURL",
    "purchaseParkingURL",
    "sellURL",
    "transferURL",
    "transitInformationURL",
    "auxiliaryStoreIdentifiers",
    "changeSeatURL",
    "entertainmentURL",
    "managementURL",
    "purchaseAdditionalBaggageURL",
    "purchaseLoungeAccessURL",
    "purchaseWifiURL",
    "upgradeURL",
    "registerServiceAnimalURL",
    "reportLostBagURL",
    "requestWheelchairURL",
    "transitProviderEmail",
    "transitProviderPhoneNumber",
    "transitProviderWebsiteURL",
    "boardingPass",
    "coupon",
    "eventTicket",
    "generic",
    "storeCard",
];

pub(super) const FIELD_GROUPS: [&str; 6] =
    ["headerFields", "primaryFields", "secondaryFields", "auxiliaryFields", "backFields", "additionalInfoFields"];

pub(super) const FIELD_KEYS: &[&str] = &[
    "key",
    "label",
    "value",
    "attributedValue",
    "changeMessage",
    "textAlignment",
    "dataDetectorTypes",
    "dateStyle",
    "timeStyle",
    "ignoresTimeZone",
    "isRelative",
    "numberStyle",
    "currencyCode",
    "semantics",
    "row",
];

pub(super) const TEXT_ALIGNMENTS: [&str; 4] =
    ["PKTextAlignmentLeft", "PKTextAlignmentCenter", "PKTextAlignmentRight", "PKTextAlignmentNatural"];
pub(super) const DATE_STYLES: [&str; 5] =
    ["PKDateStyleNone", "PKDateStyleShort", "PKDateStyleMedium", "PKDateStyleLong", "PKDateStyleFull"];
pub(super) const NUMBER_STYLES: [&str; 4] =
    ["PKNumberStyleDecimal", "PKNumberStylePercent", "PKNumberStyleScientific", "PKNumberStyleSpellOut"];
pub(super) const BARCODE_FORMATS: [&str; 4] =
    ["PKBarcodeFormatQR", "PKBarcodeFormatPDF417", "PKBarcodeFormatAztec", "PKBarcodeFormatCode128"];
pub(super) const COLOURS: [&str; 4] = ["backgroundColor", "foregroundColor", "labelColor", "footerBackgroundColor"];
