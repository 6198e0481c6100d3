//! The HTML report for IT staff, management and the inspection: one
//! self-contained file (no script, no outside resource), Japanese by
//! default. Every device-supplied string goes through askama's escaping.

use askama::Template;

use crate::{Diff, Item, ItemKind, Settlement};

pub use daicho_report::Lang;

/// One agent's last report, for the coverage table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub agent: String,
    pub segments: String,
    pub last_report: String,
    /// Not heard from for longer than its schedule.
    pub overdue: bool,
}

/// Addresses an agent is configured never to probe (fragile devices): what
/// the inspection must check by hand, with the declared rows there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    pub agent: String,
    pub network: String,
    /// The declared rows whose addresses lie there: 管理番号 (or computer
    /// name) and 種別.
    pub rows: Vec<String>,
}

/// One item of the checklist (2-①, 2-②, 2-③): はい or いいえ as the data
/// answer it, why, and for いいえ the target date the hospital set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistAnswer {
    /// `2-①`.
    pub item: &'static str,
    pub question: daicho_report::Says,
    pub yes: bool,
    pub evidence: daicho_report::Says,
    pub target: Option<String>,
}

/// A device in the 2-② register: why it is there, and its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterLine {
    pub entry: crate::RegisterEntry,
    /// Declared 有 in the ledger, or a flag settled as sanctioned.
    pub because: daicho_report::Says,
}

/// A maker's MDS/SDS status, with how many ledger devices are theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureLine {
    pub maker: String,
    pub status: daicho_report::Says,
    pub version: String,
    pub received: String,
    pub file: String,
    pub note: String,
    pub devices: usize,
}

/// A review (確認記録): who, when, the note, the targets set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffLine {
    pub reviewer: String,
    pub day: String,
    pub note: String,
    /// "2-②: 2027/03/31", …
    pub targets: String,
}

/// What the inspection asks beyond the ledger's differences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspection {
    pub answers: Vec<ChecklistAnswer>,
    pub register: Vec<RegisterLine>,
    pub disclosures: Vec<DisclosureLine>,
    /// Makers in the ledger with no MDS/SDS status recorded.
    pub makers_without: Vec<String>,
    pub sign_offs: Vec<SignOffLine>,
    /// The ledger's devices by 種別: (種別, count).
    pub by_kind: Vec<(String, usize)>,
}

/// What the report shows.
pub struct ReportInput<'a> {
    /// The hospital (and site) the report is for.
    pub site_name: Option<&'a str>,
    pub unchecked: &'a [Unchecked],
    pub generated_at: String,
    /// Which declared ledger version was compared ("v3, 2026/11/28 by …").
    pub ledger_version: Option<String>,
    pub devices_discovered: usize,
    pub devices_declared: usize,
    pub missing_after_days: i64,
    pub diff: &'a Diff,
    pub coverage: &'a [Coverage],
    pub settlements: &'a [Settlement],
    /// The network diagram (構成図) as SVG, drawn by the caller; it is put
    /// in as it is, so it must be escaped SVG (daicho-diagram's).
    pub diagram: Option<&'a str>,
    pub inspection: &'a Inspection,
}

struct Section<'a> {
    title: &'static str,
    explanation: &'static str,
    items: Vec<&'a Item>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    lang: &'static str,
    t: &'static Labels,
    input: &'a ReportInput<'a>,
    sections: Vec<Section<'a>>,
    remote: Vec<&'a Item>,
    counts: [(&'static str, usize); 4],
    ja: bool,
}

impl Page<'_> {
    fn lang(&self) -> Lang {
        if self.ja { Lang::Ja } else { Lang::En }
    }

    fn detail(&self, item: &Item) -> String {
        item.detail.render(self.lang())
    }

    fn says(&self, text: &daicho_report::Says) -> String {
        text.render(self.lang())
    }

    fn flag_name(&self, code: &str) -> String {
        daicho_report::Says::named("kind", code).render(self.lang())
    }

    fn question(&self, q: &crate::Question) -> &'static str {
        if self.ja { q.header() } else { q.english() }
    }

    fn questions(&self) -> [crate::Question; 9] {
        crate::Question::ALL
    }

    fn action(&self, settlement: &Settlement) -> String {
        settlement.action.label(self.lang())
    }

    fn remote_said(&self, item: &Item) -> String {
        let said = match item.remote_maintenance_declared {
            Some(true) => self.t.remote_yes,
            Some(false) => self.t.remote_no,
            None => self.t.remote_unsaid,
        };
        let Some(settlement) = &item.settlement else {
            return said.to_owned();
        };
        let maintenance = settlement
            .maintenance
            .as_ref()
            .map_or_else(String::new, |m| {
                let method = m.method.label(self.lang());
                format!(" — {}（{method}）", m.maintainer)
            });
        format!("{said} / {}{maintenance}", self.action(settlement))
    }
}

struct Labels {
    title: &'static str,
    generated: &'static str,
    ledger_version: &'static str,
    no_ledger: &'static str,
    summary: &'static str,
    discovered: &'static str,
    declared: &'static str,
    kinds: [(&'static str, &'static str); 4],
    none: &'static str,
    id: &'static str,
    what: &'static str,
    evidence: &'static str,
    location: &'static str,
    remote_title: &'static str,
    remote_explanation: &'static str,
    device: &'static str,
    finding: &'static str,
    ledger_says: &'static str,
    remote_yes: &'static str,
    remote_no: &'static str,
    remote_unsaid: &'static str,
    coverage: &'static str,
    unchecked_title: &'static str,
    unchecked_explanation: &'static str,
    network: &'static str,
    rows_there: &'static str,
    diagram: &'static str,
    agent: &'static str,
    segments: &'static str,
    last_report: &'static str,
    overdue: &'static str,
    settled: &'static str,
    when: &'static str,
    who: &'static str,
    action: &'static str,
    note: &'static str,
    checklist_title: &'static str,
    checklist_explanation: &'static str,
    answer: &'static str,
    yes: &'static str,
    no: &'static str,
    target_date: &'static str,
    no_target: &'static str,
    register_title: &'static str,
    register_explanation: &'static str,
    because: &'static str,
    unanswered: &'static str,
    disclosures_title: &'static str,
    disclosures_explanation: &'static str,
    maker: &'static str,
    status: &'static str,
    version: &'static str,
    received: &'static str,
    file: &'static str,
    devices: &'static str,
    makers_without: &'static str,
    sign_offs_title: &'static str,
    sign_offs_explanation: &'static str,
    reviewer: &'static str,
    day: &'static str,
    targets: &'static str,
    no_sign_off: &'static str,
    by_kind_title: &'static str,
    kind: &'static str,
    count: &'static str,
    scope_title: &'static str,
}

static JA: Labels = Labels {
    title: "機器台帳 照合レポート",
    generated: "作成日時",
    ledger_version: "照合した台帳",
    no_ledger: "台帳が取り込まれていません",
    summary: "概要",
    discovered: "ネットワーク上で検出した機器",
    declared: "台帳に記載の機器",
    kinds: [
        (
            "未記載の機器",
            "ネットワーク上にあるが台帳にない機器です。台帳に追加するか、理由を記録してください。",
        ),
        (
            "見つからない機器",
            "台帳では稼働中ですが、指定日数以上ネットワーク上に見えない機器です。",
        ),
        ("記載と異なる項目", "台帳の記載と検出結果が異なる項目です。"),
        (
            "要確認の機器（2枚挿し・モバイルルータ・リモートアクセス）",
            "チェックリスト 2-(2) の確認対象です。根拠を確認してください。",
        ),
    ],
    none: "該当なし",
    id: "項目",
    what: "内容",
    evidence: "根拠",
    location: "接続先（設置場所の候補）",
    remote_title: "リモートメンテナンスに関わる機器",
    remote_explanation: "外部との接続経路になりうる機器と、台帳のリモートメンテナンス欄の記載です。",
    device: "機器",
    finding: "検出内容",
    ledger_says: "台帳の記載",
    remote_yes: "有",
    remote_no: "無（要確認）",
    remote_unsaid: "記載なし（要確認）",
    coverage: "セグメントごとの最終スキャン",
    unchecked_title: "未確認（スキャン対象外）の機器",
    unchecked_explanation: "壊れやすい医療機器などを設定でスキャンの対象外にしています。これらの機器には一切パケットを送っていないため、台帳の記載は現地で確認してください。",
    network: "アドレス",
    rows_there: "台帳の該当機器",
    diagram: "ネットワーク構成図（検出結果）",
    agent: "エージェント",
    segments: "セグメント",
    last_report: "最終報告",
    overdue: "予定より遅れています",
    settled: "対応の記録",
    when: "日時",
    who: "担当者",
    action: "対応",
    note: "理由・メモ",
    checklist_title: "チェックリスト 2-①②③ の回答",
    checklist_explanation: "台帳・リモート保守の記録・MDS/SDS の状況から回答を示します。「いいえ」の項目には、確認記録で定めた対応の目標日を示します。",
    answer: "回答",
    yes: "はい",
    no: "いいえ",
    target_date: "目標日",
    no_target: "目標日が未設定です（確認記録で設定してください）",
    register_title: "2-② リモート保守の記録",
    register_explanation: "リモートメンテナンスを行う機器ごとに、保守事業者・接続方法・接続元の制限などを記録します。空欄は未回答です。",
    because: "対象の理由",
    unanswered: "未回答",
    disclosures_title: "2-③ 製造業者・サービス事業者のセキュリティ情報（MDS/SDS）",
    disclosures_explanation: "メーカー・システムごとの MDS/SDS の提出状況です。",
    maker: "メーカー・システム",
    status: "提出状況",
    version: "様式",
    received: "受領日",
    file: "保管場所",
    devices: "台帳の機器数",
    makers_without: "提出状況が未記録のメーカー",
    sign_offs_title: "確認記録",
    sign_offs_explanation: "台帳・リモート保守の記録・MDS/SDS の状況を責任者が確認した記録です。",
    reviewer: "確認者",
    day: "確認日",
    targets: "目標日",
    no_sign_off: "確認記録がありません",
    by_kind_title: "台帳の機器（種別ごと）",
    kind: "種別",
    count: "台数",
    scope_title: "確認の範囲",
};

static EN: Labels = Labels {
    title: "Device ledger reconciliation report",
    generated: "Generated",
    ledger_version: "Ledger compared",
    no_ledger: "No declared ledger has been imported",
    summary: "Summary",
    discovered: "Devices found on the network",
    declared: "Devices in the ledger",
    kinds: [
        (
            "Undeclared devices",
            "On the network but not in the ledger: add them, or record why not.",
        ),
        (
            "Missing devices",
            "In use according to the ledger, but not seen on the network for the configured days.",
        ),
        (
            "Changed entries",
            "Where the ledger and the network disagree.",
        ),
        (
            "Flagged devices (dual-homed, mobile routers, remote access)",
            "What checklist item 2-(2) asks about. Check the evidence.",
        ),
    ],
    none: "None",
    id: "Item",
    what: "What",
    evidence: "Evidence",
    location: "Plugged into (suggested location)",
    remote_title: "Devices that matter for remote maintenance",
    remote_explanation: "Devices that may be a path to the outside, and what the ledger's remote-maintenance column says.",
    device: "Device",
    finding: "Finding",
    ledger_says: "The ledger says",
    remote_yes: "Yes",
    remote_no: "No (check)",
    remote_unsaid: "Not stated (check)",
    coverage: "Last scan per segment",
    unchecked_title: "Not checked (excluded from scanning)",
    unchecked_explanation: "Fragile devices and the like are excluded from scanning by configuration: they received no packet at all, so check their ledger rows on site.",
    network: "Addresses",
    rows_there: "Ledger rows there",
    diagram: "Network diagram (as found)",
    agent: "Agent",
    segments: "Segments",
    last_report: "Last report",
    overdue: "overdue",
    settled: "Settled items",
    when: "When",
    who: "Who",
    action: "Action",
    note: "Reason / note",
    checklist_title: "Checklist items 2-①②③",
    checklist_explanation: "Answered from the ledger, the remote-maintenance register and the MDS/SDS status. For a No, the target date set in a sign-off.",
    answer: "Answer",
    yes: "Yes",
    no: "No",
    target_date: "Target date",
    no_target: "No target date set (set one in a sign-off)",
    register_title: "2-② Remote-maintenance register",
    register_explanation: "For each device maintained remotely: the vendor, how it connects, from where, and the rest. An empty cell is unanswered.",
    because: "Why listed",
    unanswered: "Unanswered",
    disclosures_title: "2-③ Makers' security disclosures (MDS/SDS)",
    disclosures_explanation: "Whether each maker or system has submitted its MDS/SDS.",
    maker: "Maker or system",
    status: "Status",
    version: "Form",
    received: "Received",
    file: "Kept at",
    devices: "Devices in the ledger",
    makers_without: "Makers with no status recorded",
    sign_offs_title: "Sign-offs",
    sign_offs_explanation: "Reviews of the ledger, the register and the MDS/SDS status by the people responsible.",
    reviewer: "Reviewer",
    day: "Date",
    targets: "Target dates",
    no_sign_off: "No sign-off recorded",
    by_kind_title: "Ledger devices by kind",
    kind: "Kind",
    count: "Count",
    scope_title: "Scope",
};

/// The report as one HTML document.
pub fn render_html(input: &ReportInput<'_>, lang: Lang) -> String {
    let t: &'static Labels = match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    };
    let kinds = [
        ItemKind::Undeclared,
        ItemKind::Missing,
        ItemKind::Changed,
        ItemKind::Flagged,
    ];
    let sections: Vec<Section<'_>> = kinds
        .iter()
        .zip(&t.kinds)
        .map(|(kind, (title, explanation))| Section {
            title,
            explanation,
            items: input
                .diff
                .items
                .iter()
                .filter(|i| i.kind == *kind)
                .collect(),
        })
        .collect();
    let counts = [0, 1, 2, 3].map(|i| (t.kinds[i].0, sections[i].items.len()));
    let remote = input
        .diff
        .items
        .iter()
        .chain(&input.diff.sanctioned)
        .chain(&input.diff.ignored)
        .filter(|i| i.kind == ItemKind::Flagged)
        .collect();
    Page {
        lang: if lang == Lang::Ja { "ja" } else { "en" },
        t,
        input,
        sections,
        remote,
        counts,
        ja: lang == Lang::Ja,
    }
    .render()
    .expect("the template renders")
}
