//! The secret never shows in `Debug` or `Display` output of anything that
//! holds it: options, clients, requests (headers included), errors.
//! Every text produced here also goes to the suite-wide audit file.

mod common;

use chatbotkit::client::{Client, OptionsPatch, SessionKind};
use common::{audit, SECRET, SECRET_MARKER};

fn patch(json: &str) -> OptionsPatch {
    OptionsPatch::parse(Some(json)).expect("valid options")
}

fn assert_clean(what: &str, text: &str) {
    audit(what, text);
    assert!(
        !text.contains(SECRET_MARKER),
        "{what} shows the secret: {text}"
    );
}

#[test]
fn debug_output_never_shows_the_secret() {
    let options = format!(
        r#"{{"secret":"{SECRET}","token":"{SECRET}","headers":{{"Authorization":"Bearer {SECRET}","x-api-key":"{SECRET}"}},"baseUrl":"http://127.0.0.1:9"}}"#
    );
    let client = Client::new(&patch(&options)).expect("client");
    // The secret is really in there (else this test proves nothing).
    assert!(client.options().to_json().to_string().contains(SECRET));

    assert_clean("Debug of Options", &format!("{:?}", client.options()));
    assert_clean("Debug of Client", &format!("{client:?}"));
    let derived = client
        .extend(&patch(r#"{"timezone":"UTC"}"#))
        .expect("derived");
    assert_clean("Debug of a derived Client", &format!("{derived:#?}"));

    let request = client
        .session_request(SessionKind::Conversation, "cnv_1", Some("{}"))
        .expect("request");
    assert!(request.headers.get("authorization").is_some());
    assert_clean("Debug of a Request", &format!("{request:?}"));
    let (fetch, policy) = client
        .fetch_request(
            "/api/v1/x",
            Some(&format!(r#"{{"headers":{{"cookie":"{SECRET}"}}}}"#)),
        )
        .expect("fetch request");
    assert_clean("Debug of a fetch Request", &format!("{fetch:?} {policy:?}"));
}

#[test]
fn option_errors_never_quote_the_secret() {
    let cases = [
        format!(r#"{{"secret":"{SECRET}\n"}}"#),
        format!(r#"{{"token":"{SECRET}\r"}}"#),
        format!(r#"{{"secret":["{SECRET}"]}}"#),
        format!(r#"{{"secret":{{"{SECRET}":1}}}}"#),
        format!(r#"{{"headers":{{"authorization":"{SECRET}\n"}}}}"#),
        format!(r#"{{"secret":"{SECRET}""#),
    ];
    for case in &cases {
        let err = match OptionsPatch::parse(Some(case)).and_then(|p| Client::new(&p)) {
            Ok(_) => panic!("options accepted: {case:?}"),
            Err(e) => e,
        };
        assert_clean("Display of an Error", &err.to_string());
        assert_clean("Debug of an Error", &format!("{err:?}"));
    }
}
