//! The ledger's columns: the MHLW example's (管理番号 … 説明), the ones
//! daicho adds (MACアドレス, 機種, シリアル番号, 種別, リモートメンテナンス,
//! 保守事業者), the cloud-services sheet's, and the headers each is known by.

use serde::{Deserialize, Serialize};

/// A column of the device sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ManagementId,
    Maker,
    Os,
    Software,
    SoftwareVersion,
    Ip,
    ComputerName,
    Location,
    User,
    Registered,
    Status,
    Description,
    Mac,
    Model,
    Serial,
    Kind,
    RemoteMaintenance,
    Maintainer,
    /// The 医療機器 mark: a networked medical device (modality, monitor,
    /// pump) — fragile under scans, and asked about by the inspection.
    Medical,
}

/// Each column, in the order the ledger is written, with its Japanese
/// header first and the other headers it is recognised by.
pub const DEVICE_COLUMNS: &[(Field, &[&str])] = &[
    (
        Field::ManagementId,
        &[
            "管理番号",
            "資産番号",
            "No",
            "ID",
            "management id",
            "asset id",
        ],
    ),
    (
        Field::Maker,
        &[
            "メーカー",
            "メーカ",
            "製造元",
            "maker",
            "manufacturer",
            "vendor",
        ],
    ),
    (
        Field::Os,
        &["OS", "オペレーティングシステム", "operating system"],
    ),
    (Field::Software, &["ソフトウェア", "software"]),
    (
        Field::SoftwareVersion,
        &[
            "ソフトウェアバージョン",
            "バージョン",
            "software version",
            "version",
        ],
    ),
    (Field::Ip, &["IPアドレス", "IP", "ip address"]),
    (
        Field::ComputerName,
        &[
            "コンピュータ名",
            "コンピューター名",
            "ホスト名",
            "computer name",
            "hostname",
            "host name",
        ],
    ),
    (Field::Location, &["設置場所", "場所", "location"]),
    (Field::User, &["利用者", "使用者", "user", "users"]),
    (
        Field::Registered,
        &["登録日", "registered", "registration date"],
    ),
    (Field::Status, &["状態", "ステータス", "status"]),
    (
        Field::Description,
        &["説明", "備考", "description", "notes", "note"],
    ),
    (Field::Mac, &["MACアドレス", "MAC", "mac address"]),
    (Field::Model, &["機種", "型番", "model"]),
    (
        Field::Serial,
        &["シリアル番号", "製造番号", "serial", "serial number"],
    ),
    (
        Field::Kind,
        &["種別", "機器種別", "kind", "type", "device type"],
    ),
    (
        Field::RemoteMaintenance,
        &["リモートメンテナンス", "リモート保守", "remote maintenance"],
    ),
    (
        Field::Maintainer,
        &["保守事業者", "保守業者", "maintainer", "maintenance vendor"],
    ),
    (Field::Medical, &["医療機器", "medical device", "medical"]),
];

/// The cloud-services sheet's columns (stored and exported, not diffed).
pub const CLOUD_COLUMNS: &[&str] = &[
    "サービス提供事業者",
    "サービス名称／用途",
    "ドメイン／アドレス",
    "利用場所／アクセス経路",
    "利用者／グループ",
    "利用者認証方法",
    "利用開始日",
    "利用状況",
];

impl Field {
    /// The name JSON, item ids (`C5-location`) and forms give the column.
    pub fn id(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The Japanese header, as the ledger is written.
    pub fn header(self) -> &'static str {
        self.headers()[0]
    }

    /// The English name, for `--lang en` and JSON.
    pub fn english(self) -> &'static str {
        match self {
            Field::ManagementId => "Management ID",
            Field::Maker => "Maker",
            Field::Os => "OS",
            Field::Software => "Software",
            Field::SoftwareVersion => "Software version",
            Field::Ip => "IP address",
            Field::ComputerName => "Computer name",
            Field::Location => "Location",
            Field::User => "User",
            Field::Registered => "Registered",
            Field::Status => "Status",
            Field::Description => "Description",
            Field::Mac => "MAC address",
            Field::Model => "Model",
            Field::Serial => "Serial number",
            Field::Kind => "Kind",
            Field::RemoteMaintenance => "Remote maintenance",
            Field::Maintainer => "Maintenance vendor",
            Field::Medical => "Medical device",
        }
    }

    fn headers(self) -> &'static [&'static str] {
        DEVICE_COLUMNS
            .iter()
            .find(|(f, _)| *f == self)
            .map(|(_, h)| *h)
            .expect("every field has headers")
    }

    /// The field a header names (case, width and spaces aside).
    pub fn from_header(header: &str) -> Option<Field> {
        let wanted = normalize_header(header);
        DEVICE_COLUMNS
            .iter()
            .find(|(_, headers)| headers.iter().any(|h| normalize_header(h) == wanted))
            .map(|(f, _)| *f)
    }

    /// The field named by its id (`computer_name`) or any header.
    pub fn from_name(name: &str) -> Option<Field> {
        serde_json::from_value(serde_json::Value::String(name.to_owned()))
            .ok()
            .or_else(|| Field::from_header(name))
    }
}

/// Lower case, full-width ASCII folded, spaces and "・" removed: "ＩＰ アドレス"
/// and "IPアドレス" are one header.
pub(crate) fn normalize_header(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace() && *c != '・' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}
