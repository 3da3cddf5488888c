//! A USCC identifies one legal entity: a second institution with a USCC
//! another one holds is refused, naming both ids, unless the import says
//! `--allow-shared-uscc` (a branch sharing its parent's code).

use crate::common::Ws;

/// A valid USCC with body `body` (17 characters): its check character added.
fn uscc(body: &str) -> String {
    format!(
        "{body}{}",
        casebook::model::uscc_check_char(body).expect("a valid body")
    )
}

#[test]
fn a_second_institution_with_a_uscc_is_refused_naming_both_ids() {
    let ws = Ws::init();
    let a = uscc("91440101MA5CJQ4N5");
    let b = uscc("91440106MA5CJQ4N5");
    let first = ws.write(
        "a.csv",
        format!("id,name,uscc,district,category,status,status_date\nA1,甲,{a},天河,subject,operating,2018-01-01\n"),
    );
    ws.import("institutions", &first);
    // Against the ledger, and within the file; re-importing A1 itself is fine.
    let second = ws.write(
        "b.csv",
        format!(
            "id,name,uscc,district,category,status,status_date\n\
             A1,甲,{a},天河,subject,operating,2018-01-01\n\
             A2,乙,{a},天河,subject,operating,2018-01-01\n\
             B1,丙,{b},海珠,subject,operating,2018-01-01\n\
             B2,丁,{b},海珠,subject,operating,2018-01-01\n"
        ),
    );
    let before = ws.snapshot();
    ws.run(&["import", "institutions", &second])
        .code(1)
        .stderr_has(&[
            &format!("b.csv:3: uscc = \"{a}\": is already the USCC of A1 (in the ledger), so A2 and A1 would share it"),
            &format!("b.csv:5: uscc = \"{b}\": is already the USCC of B1 (on line 4)"),
            "--allow-shared-uscc",
            "nothing was written",
        ]);
    assert_eq!(ws.snapshot(), before);
    // A real branch: said explicitly.
    ws.run(&["import", "institutions", &second, "--allow-shared-uscc"])
        .ok();
    let csv = ws.export("institutions", "csv");
    assert_eq!(csv.matches(a.as_str()).count(), 2, "{csv}");
}
