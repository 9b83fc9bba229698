//! State machines, versions, aliases, tags and validation through aws-sdk-sfn.

mod common;

use aws_sdk_sfn::types::{
    RoutingConfigurationListItem, StateMachineType, Tag, ValidateStateMachineDefinitionResultCode,
};
use common::{ROLE, Server, create_machine, error_code, temp_dir};

const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
const PASS2: &str = r#"{"StartAt":"Q","States":{"Q":{"Type":"Pass","Result":2,"End":true}}}"#;

#[tokio::test]
async fn create_describe_update_list_delete() {
    let server = Server::start(&temp_dir("machines"));
    let c = server.client();
    let arn = create_machine(&c, "m1", PASS).await;
    assert_eq!(arn, "arn:aws:states:us-east-1:123456789012:stateMachine:m1");
    // Identical create is idempotent; a different one is refused.
    assert_eq!(create_machine(&c, "m1", PASS).await, arn);
    let e = c.create_state_machine().name("m1").definition(PASS2).role_arn(ROLE).send().await.unwrap_err();
    assert_eq!(error_code(&e), "StateMachineAlreadyExists");

    let d = c.describe_state_machine().state_machine_arn(&arn).send().await.unwrap();
    assert_eq!(d.name, "m1");
    assert_eq!(d.definition, PASS);
    assert_eq!(d.r#type, StateMachineType::Standard);
    let rev1 = d.revision_id.clone().unwrap();

    let u = c.update_state_machine().state_machine_arn(&arn).definition(PASS2).send().await.unwrap();
    assert_ne!(u.revision_id.as_deref(), Some(rev1.as_str()));
    let d = c.describe_state_machine().state_machine_arn(&arn).send().await.unwrap();
    assert_eq!(d.definition, PASS2);

    for i in 0..5 {
        create_machine(&c, &format!("page-{i}"), PASS).await;
    }
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = c.list_state_machines().max_results(2).set_next_token(token).send().await.unwrap();
        assert!(page.state_machines.len() <= 2);
        names.extend(page.state_machines.iter().map(|m| m.name.clone()));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["m1", "page-0", "page-1", "page-2", "page-3", "page-4"]);

    c.delete_state_machine().state_machine_arn(&arn).send().await.unwrap();
    let e = c.describe_state_machine().state_machine_arn(&arn).send().await.unwrap_err();
    assert_eq!(error_code(&e), "StateMachineDoesNotExist");
}

#[tokio::test]
async fn bad_requests_get_aws_errors() {
    let server = Server::start(&temp_dir("machine-errors"));
    let c = server.client();
    let e = c.create_state_machine().name("bad name").definition(PASS).role_arn(ROLE).send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidName");
    let e = c.create_state_machine().name("x").definition("{").role_arn(ROLE).send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidDefinition");
    let bad = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#;
    let e = c.create_state_machine().name("x").definition(bad).role_arn(ROLE).send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidDefinition");
    assert!(e.into_service_error().to_string().contains("MISSING_TRANSITION_TARGET"));
    let e = c.describe_state_machine().state_machine_arn("not-an-arn").send().await.unwrap_err();
    assert_eq!(error_code(&e), "InvalidArn");
    let e = c
        .describe_state_machine()
        .state_machine_arn("arn:aws:states:us-east-1:123456789012:stateMachine:nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "StateMachineDoesNotExist");

    let v = c.validate_state_machine_definition().definition(bad).send().await.unwrap();
    assert_eq!(v.result, ValidateStateMachineDefinitionResultCode::Fail);
    assert!(v.diagnostics.iter().any(|d| d.code == "MISSING_TRANSITION_TARGET"));
    let v = c.validate_state_machine_definition().definition(PASS).send().await.unwrap();
    assert_eq!(v.result, ValidateStateMachineDefinitionResultCode::Ok);
}

#[tokio::test]
async fn versions_aliases_and_tags() {
    let server = Server::start(&temp_dir("versions"));
    let c = server.client();
    let out = c.create_state_machine().name("v").definition(PASS).role_arn(ROLE).publish(true).send().await.unwrap();
    let arn = out.state_machine_arn;
    let v1 = out.state_machine_version_arn.unwrap();
    assert_eq!(v1, format!("{arn}:1"));
    // Publishing an unchanged revision gives the same version.
    let again = c.publish_state_machine_version().state_machine_arn(&arn).send().await.unwrap();
    assert_eq!(again.state_machine_version_arn, v1);
    c.update_state_machine().state_machine_arn(&arn).definition(PASS2).send().await.unwrap();
    let v2 = c.publish_state_machine_version().state_machine_arn(&arn).description("two").send().await.unwrap();
    assert_eq!(v2.state_machine_version_arn, format!("{arn}:2"));
    let d1 = c.describe_state_machine().state_machine_arn(&v1).send().await.unwrap();
    assert_eq!(d1.definition, PASS);
    let list = c.list_state_machine_versions().state_machine_arn(&arn).send().await.unwrap();
    let arns: Vec<_> = list.state_machine_versions.iter().map(|v| v.state_machine_version_arn.clone()).collect();
    assert_eq!(arns, [format!("{arn}:2"), v1.clone()]);

    let route = |v: &str, w: i32| {
        RoutingConfigurationListItem::builder().state_machine_version_arn(v).weight(w).build().unwrap()
    };
    let alias = c
        .create_state_machine_alias()
        .name("prod")
        .routing_configuration(route(&v1, 100))
        .send()
        .await
        .unwrap()
        .state_machine_alias_arn;
    assert_eq!(alias, format!("{arn}:prod"));
    c.update_state_machine_alias()
        .state_machine_alias_arn(&alias)
        .routing_configuration(route(&v1, 50))
        .routing_configuration(route(&format!("{arn}:2"), 50))
        .send()
        .await
        .unwrap();
    let d = c.describe_state_machine_alias().state_machine_alias_arn(&alias).send().await.unwrap();
    assert_eq!(d.routing_configuration.unwrap_or_default().len(), 2);
    let e = c.delete_state_machine_version().state_machine_version_arn(&v1).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    let aliases = c.list_state_machine_aliases().state_machine_arn(&arn).send().await.unwrap();
    assert_eq!(aliases.state_machine_aliases.len(), 1);

    // Alias routing picks both versions over enough starts.
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..40 {
        let s = c.start_execution().state_machine_arn(&alias).name(format!("a{i}")).send().await.unwrap();
        let d = c.describe_execution().execution_arn(&s.execution_arn).send().await.unwrap();
        assert_eq!(d.state_machine_alias_arn.as_deref(), Some(alias.as_str()));
        seen.insert(d.state_machine_version_arn.unwrap());
    }
    assert_eq!(seen.len(), 2, "weights of 50/50 route to both versions");
    let by_alias = c.list_executions().state_machine_arn(&alias).max_results(1000).send().await.unwrap();
    assert_eq!(by_alias.executions.len(), 40);

    c.delete_state_machine_alias().state_machine_alias_arn(&alias).send().await.unwrap();
    c.delete_state_machine_version().state_machine_version_arn(&v1).send().await.unwrap();

    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    c.tag_resource().resource_arn(&arn).tags(tag("team", "a")).tags(tag("env", "dev")).send().await.unwrap();
    c.untag_resource().resource_arn(&arn).tag_keys("env").send().await.unwrap();
    let tags = c.list_tags_for_resource().resource_arn(&arn).send().await.unwrap().tags.unwrap_or_default();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].key.as_deref(), Some("team"));
    let e = c.list_tags_for_resource().resource_arn(format!("{arn}x")).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFound");
}

#[tokio::test]
async fn identical_creates_at_once_all_get_the_machine() {
    let server = Server::start(&temp_dir("machines-race"));
    let c = server.client();
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let creates = (0..8).map(|_| {
        let c = c.clone();
        async move { c.create_state_machine().name("raced").definition(def).role_arn(ROLE).send().await }
    });
    let answers = futures::future::join_all(creates).await;
    for a in answers {
        let arn = a.expect("an identical create is idempotent, even when they race").state_machine_arn;
        assert!(arn.ends_with(":stateMachine:raced"), "{arn}");
    }
}
