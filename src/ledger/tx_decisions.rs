//! The transaction's writes of decisions and registers: black and white
//! lists, saved scoring runs, notices, decisions on licence applications and
//! course filings, and the licence history an approval adds to.

use chrono::NaiveDate;
use redb::ReadableTable;

use super::codec;
use super::error::reject;
use super::{LedgerError, Tx};
use crate::model::*;

/// One spell of an institution on a black or white list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListEntry {
    pub list: String,
    pub institution_id: String,
    pub added: NaiveDate,
    pub reason: String,
    pub removed: Option<NaiveDate>,
    pub removed_reason: Option<String>,
    /// The audit entry that added it.
    pub audit: u64,
    pub operator: String,
    /// Who put it there; `None` for entries made before owners were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// Who took it off, when that was not its owner (`list_remove_other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_by: Option<Owner>,
}

/// Who a list entry belongs to: the rule that put it there (its script's file
/// name, and the SHA-256 of the version that did) or the person (the REPL's
/// or `--operator`'s name). A rule owns what any version of it added, so an
/// edited rule still keeps its own entries in step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Owner {
    Rule { name: String, sha256: String },
    Person { name: String },
}

/// How an entry without a recorded owner reads.
pub const UNKNOWN_OWNER: &str = "unknown (before owners were recorded)";

impl Owner {
    /// Whether `self` and `other` are the same owner (a rule by its file name).
    pub fn same(&self, other: &Owner) -> bool {
        match (self, other) {
            (Owner::Rule { name: a, .. }, Owner::Rule { name: b, .. }) => a == b,
            (Owner::Person { name: a }, Owner::Person { name: b }) => a == b,
            _ => false,
        }
    }

    /// The owner as shown: `rule blacklist.rhai (sha256 1a2b3c4d5e6f)` or `person alice`.
    pub fn describe(o: Option<&Owner>) -> String {
        match o {
            None => UNKNOWN_OWNER.to_string(),
            Some(Owner::Rule { name, sha256 }) => {
                format!("rule {name} (sha256 {})", &sha256[..sha256.len().min(12)])
            }
            Some(Owner::Person { name }) => format!("person {name}"),
        }
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Owner::describe(Some(self)))
    }
}

impl ListEntry {
    /// Whether the institution was on the list on `d`.
    pub fn on(&self, d: NaiveDate) -> bool {
        self.added <= d && self.removed.is_none_or(|r| r > d)
    }
}

impl Tx<'_> {
    /// Puts an institution on a named list from `date`, owned by `owner`.
    /// Being on the list already changes nothing: returns false.
    pub fn list_add(
        &mut self,
        list: &str,
        id: &str,
        date: NaiveDate,
        reason: &str,
        operator: &str,
        owner: &Owner,
    ) -> Result<bool, LedgerError> {
        if !self.has_institution(id)? {
            return Err(reject(vec![FieldError::new(
                "id",
                id,
                "no such institution",
            )]));
        }
        let (last, open) = self.list_last(list, id)?;
        if open.is_some() {
            return Ok(false);
        }
        let e = ListEntry {
            list: list.into(),
            institution_id: id.into(),
            added: date,
            reason: reason.into(),
            removed: None,
            removed_reason: None,
            audit: self.audit_seq,
            operator: operator.into(),
            owner: Some(owner.clone()),
            removed_by: None,
        };
        self.lists.insert(
            (list, id, last + 1),
            serde_json::to_string(&e).unwrap().as_str(),
        )?;
        self.record_change("list", id, &format!("add to {list}: {reason}"), Vec::new())?;
        self.counts.other += 1;
        Ok(true)
    }

    /// Takes an institution off a named list from `date`; the entry is kept
    /// with its removal. Not being on the list changes nothing: returns false.
    /// Only the entry's owner (`by`) takes it off, unless `other` says it is
    /// meant (`list_remove_other`, with its reason).
    pub fn list_remove(
        &mut self,
        list: &str,
        id: &str,
        date: NaiveDate,
        reason: &str,
        by: &Owner,
        other: bool,
    ) -> Result<bool, LedgerError> {
        let (last, open) = self.list_last(list, id)?;
        let Some(mut e) = open else {
            return Ok(false);
        };
        if !other && !e.owner.as_ref().is_some_and(|o| o.same(by)) {
            return Err(reject(vec![FieldError::new(
                "id",
                id,
                format!(
                    "is on list {list} by {}, not by {by}; to take off another owner's entry use list_remove_other with a reason",
                    Owner::describe(e.owner.as_ref())
                ),
            )]));
        }
        if date < e.added {
            return Err(reject(vec![FieldError::new(
                "date",
                fmt_date(date),
                format!("is before the entry was added ({})", e.added),
            )]));
        }
        let before = serde_json::to_string(&e).unwrap();
        e.removed = Some(date);
        e.removed_reason = Some(reason.into());
        if other {
            e.removed_by = Some(by.clone());
        }
        self.lists.insert(
            (list, id, last),
            serde_json::to_string(&e).unwrap().as_str(),
        )?;
        self.record_change(
            "list",
            id,
            &format!("remove from {list}: {reason}"),
            before.into_bytes(),
        )?;
        self.counts.other += 1;
        Ok(true)
    }

    fn list_last(&self, list: &str, id: &str) -> Result<(u64, Option<ListEntry>), LedgerError> {
        let mut r = self.lists.range((list, id, 0u64)..=(list, id, u64::MAX))?;
        match r.next_back().transpose()? {
            None => Ok((0, None)),
            Some((k, v)) => {
                let e: ListEntry = serde_json::from_str(v.value())
                    .map_err(|e| LedgerError::Storage(format!("bad list entry: {e}")))?;
                Ok((k.value().2, e.removed.is_none().then_some(e)))
            }
        }
    }

    /// Saves a scoring run in the decision log; returns its number. Runs are
    /// only ever added: nothing in casebook changes or removes one.
    pub fn save_run<'a>(
        &mut self,
        header: &serde_json::Value,
        results: impl Iterator<Item = (&'a str, serde_json::Value)>,
    ) -> Result<u64, LedgerError> {
        let run = {
            let last = self.runs.last()?;
            last.map(|(k, _)| k.value() + 1).unwrap_or(1)
        };
        let mut h = header.clone();
        h["run"] = run.into();
        h["audit"] = self.audit_seq.into();
        self.runs.insert(run, h.to_string().as_str())?;
        let mut n = 0u64;
        for (id, v) in results {
            self.run_results.insert((run, id), v.to_string().as_str())?;
            n += 1;
        }
        self.detail = Some(format!("saved scoring run {run} ({n} institutions)"));
        self.record_change(
            "run",
            &run.to_string(),
            &format!("saved scoring run {run} ({n} institutions)"),
            Vec::new(),
        )?;
        self.counts.other += 1;
        Ok(run)
    }

    /// Records a notice issued on `date`; returns false (and records nothing) if
    /// the same kind of notice was already issued to the institution that day.
    pub fn record_notice(
        &mut self,
        id: &str,
        kind: &str,
        date: NaiveDate,
        file: &str,
        sha256: &str,
        operator: &str,
    ) -> Result<bool, LedgerError> {
        let key = (id, kind, codec::date_num(date));
        if self.notices.get(key)?.is_some() {
            return Ok(false);
        }
        let v = serde_json::json!({"date": fmt_date(date), "file": file, "sha256": sha256,
            "audit": self.audit_seq, "operator": operator});
        self.notices.insert(key, v.to_string().as_str())?;
        self.record_change(
            "notice",
            id,
            &format!("{kind} issued on {date}: {file}"),
            Vec::new(),
        )?;
        self.counts.other += 1;
        Ok(true)
    }

    /// Application `app_id`, which must exist and still be submitted: only
    /// such an application can be approved or rejected.
    fn submitted_application(&self, app_id: &str) -> Result<Application, LedgerError> {
        let a = self.application(app_id)?.ok_or_else(|| {
            reject(vec![FieldError::new(
                "application_id",
                app_id,
                "no such application",
            )])
        })?;
        if a.status != AppStatus::Submitted {
            return Err(reject(vec![FieldError::new("status", a.status.as_str(), format!("application {app_id} is {} already; only a submitted application can be decided", a.status))]));
        }
        Ok(a)
    }

    /// Approves a pending application on `date`: the application records the
    /// licence, and the institution's licence fields take it from that date.
    pub fn approve(
        &mut self,
        app_id: &str,
        licence_no: &str,
        expires: NaiveDate,
        date: NaiveDate,
        reason: &str,
    ) -> Result<(), LedgerError> {
        let mut a = self.submitted_application(app_id)?;
        a.status = AppStatus::Approved;
        a.decided_on = Some(date);
        a.decision_reason = reason.to_string();
        a.licence_no = Some(licence_no.to_string());
        a.licence_expires = Some(expires);
        self.upsert_application(&a)?;
        let Some(ob) = self
            .institutions
            .get(a.institution_id.as_str())?
            .map(|g| g.value().to_vec())
        else {
            return Err(reject(vec![FieldError::new(
                "institution_id",
                a.institution_id.clone(),
                "no such institution",
            )]));
        };
        let mut x = codec::decode_institution(&ob)?;
        self.keep_licence(&x)?;
        x.licence_no = Some(licence_no.to_string());
        x.licence_issued = Some(date);
        x.licence_expires = Some(expires);
        let errs = x.validate(&self.districts);
        if !errs.is_empty() {
            return Err(reject(errs));
        }
        self.institutions
            .insert(x.id.as_str(), codec::encode_institution(&x).as_slice())?;
        self.record_change(
            RecordKind::Institutions.audit_name(),
            &x.id,
            &format!(
                "licence {licence_no} issued {date}, valid to {expires} (application {app_id})"
            ),
            ob,
        )?;
        Ok(())
    }

    /// Files the institution's current licence (if any) in its licence history
    /// before it is replaced.
    pub(super) fn keep_licence(&mut self, x: &Institution) -> Result<(), LedgerError> {
        let (Some(no), Some(issued)) = (&x.licence_no, x.licence_issued) else {
            return Ok(());
        };
        let next = {
            let mut r = self
                .licence_history
                .range((x.id.as_str(), 0u64)..=(x.id.as_str(), u64::MAX))?;
            r.next_back()
                .transpose()?
                .map(|(k, _)| k.value().1 + 1)
                .unwrap_or(1)
        };
        let v = serde_json::json!({"licence_no": no, "issued": fmt_date(issued),
            "expires": x.licence_expires.map(fmt_date), "audit": self.audit_seq});
        self.licence_history
            .insert((x.id.as_str(), next), v.to_string().as_str())?;
        Ok(())
    }

    /// Rejects a pending application on `date` with reasons.
    pub fn reject_application(
        &mut self,
        app_id: &str,
        reason: &str,
        date: NaiveDate,
    ) -> Result<(), LedgerError> {
        let mut a = self.submitted_application(app_id)?;
        a.status = AppStatus::Rejected;
        a.decided_on = Some(date);
        a.decision_reason = reason.to_string();
        self.upsert_application(&a).map(|_| ())
    }

    /// Accepts or rejects a filed course on `date`; the institution's record is never touched.
    pub fn decide_course(
        &mut self,
        id: &str,
        accept: bool,
        reason: &str,
        date: NaiveDate,
    ) -> Result<(), LedgerError> {
        let mut c = self
            .course(id)?
            .ok_or_else(|| reject(vec![FieldError::new("course_id", id, "no such course")]))?;
        if c.status != CourseStatus::Filed {
            return Err(reject(vec![FieldError::new(
                "status",
                c.status.as_str(),
                format!(
                    "course {id} is {} already; only a filed course can be decided",
                    c.status
                ),
            )]));
        }
        c.status = if accept {
            CourseStatus::Accepted
        } else {
            CourseStatus::Rejected
        };
        c.decision_reason = reason.to_string();
        c.decided_on = Some(date);
        self.upsert_course(&c).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries stored before owners were recorded read with none, shown as unknown.
    #[test]
    fn an_entry_without_an_owner_reads_as_unknown_and_is_nobodys() {
        let old = r#"{"list":"blacklist","institution_id":"A1","added":"2019-02-20","reason":"x","removed":null,"removed_reason":null,"audit":3,"operator":"li"}"#;
        let e: ListEntry = serde_json::from_str(old).unwrap();
        assert_eq!(e.owner, None);
        assert_eq!(Owner::describe(e.owner.as_ref()), UNKNOWN_OWNER);
        // Written again, it stays in the old form (no owner field).
        assert!(!serde_json::to_string(&e).unwrap().contains("owner"));
        let rule = |sha: &str| Owner::Rule {
            name: "blacklist.rhai".into(),
            sha256: sha.into(),
        };
        // A rule owns what any version of it added; a person is not a rule.
        assert!(rule("aa").same(&rule("bb")));
        assert!(!rule("aa").same(&Owner::Person {
            name: "blacklist.rhai".into()
        }));
        assert_eq!(
            rule("0123456789abcdef").to_string(),
            "rule blacklist.rhai (sha256 0123456789ab)"
        );
    }
}
