//! Three descriptions of the serverless resources must agree: the Terraform
//! module (parsed as HCL), the LocalStack bootstrap, and the code. `terraform
//! validate` needs provider plugins this machine cannot download, so this is
//! what keeps the configuration right by construction.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hcl::{Block, Body, Expression};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `.tf` file of the module, parsed.
fn module() -> Vec<Body> {
    let dir = root().join("infra/terraform/modules/stepwise");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("the module").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let tf = files.iter().filter(|p| p.extension().is_some_and(|e| e == "tf"));
    tf.map(|p| hcl::parse(&std::fs::read_to_string(p).expect("readable")).unwrap_or_else(|e| panic!("{p:?}: {e}")))
        .collect()
}

fn blocks<'a>(bodies: &'a [Body], kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    bodies.iter().flat_map(|b| b.blocks()).filter(move |b| b.identifier() == kind)
}

fn resource<'a>(bodies: &'a [Body], ty: &str, name: &str) -> &'a Body {
    let found = blocks(bodies, "resource").find(|b| {
        let labels: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
        labels == [ty, name]
    });
    found.unwrap_or_else(|| panic!("resource {ty}.{name}")).body()
}

fn attr<'a>(body: &'a Body, key: &str) -> &'a Expression {
    body.attributes().find(|a| a.key() == key).unwrap_or_else(|| panic!("attribute {key}")).expr()
}

/// A literal or template string's text.
fn text(e: &Expression) -> String {
    match e {
        Expression::String(s) => s.clone(),
        Expression::TemplateExpr(t) => t.to_string(),
        other => panic!("not a string: {other:?}"),
    }
}

fn local<'a>(bodies: &'a [Body], key: &str) -> &'a Expression {
    let mut found = blocks(bodies, "locals").flat_map(|b| b.body().attributes()).filter(|a| a.key() == key);
    found.next().unwrap_or_else(|| panic!("local.{key}")).expr()
}

fn block<'a>(body: &'a Body, kind: &str) -> &'a Body {
    body.blocks().find(|b| b.identifier() == kind).unwrap_or_else(|| panic!("block {kind}")).body()
}

#[test]
fn terraform_bootstrap_and_code_agree() {
    let tf = module();
    let bootstrap = read("localstack/bootstrap.sh");
    let handlers = read("control-plane/src/handlers.rs");

    // The table: keys and TTL attribute.
    let table = resource(&tf, "aws_dynamodb_table", "main");
    assert_eq!((text(attr(table, "hash_key")), text(attr(table, "range_key"))), ("pk".into(), "sk".into()));
    let keys: BTreeSet<String> = table
        .blocks()
        .filter(|b| b.identifier() == "attribute")
        .map(|b| format!("{}:{}", text(attr(b.body(), "name")), text(attr(b.body(), "type"))))
        .collect();
    assert_eq!(keys, BTreeSet::from(["pk:S".to_string(), "sk:S".to_string()]));
    for k in ["AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=S", "KeyType=HASH", "KeyType=RANGE"] {
        assert!(bootstrap.contains(k), "bootstrap.sh lacks {k}");
    }
    let ttl = text(attr(block(table, "ttl"), "attribute_name"));
    assert_eq!(ttl, stepwise_control_plane::store::aws::TTL_ATTRIBUTE);
    assert!(bootstrap.contains(&format!("AttributeName={ttl}")), "bootstrap.sh enables TTL on {ttl}");

    // The queues: names, DLQs, receives before the DLQ, visibility.
    let Expression::Array(queues) = local(&tf, "queues") else { panic!("local.queues is a list") };
    let queues: Vec<String> = queues.iter().map(text).collect();
    use stepwise_control_plane::model::queues::{SCHEDULER, TASKS};
    assert_eq!(queues, [SCHEDULER, TASKS]);
    assert!(bootstrap.contains(&format!("for q in {SCHEDULER} {TASKS}; do")), "bootstrap.sh makes the same queues");
    let main_q = resource(&tf, "aws_sqs_queue", "main");
    assert_eq!(text(attr(main_q, "name")), "${local.queue_prefix}${each.key}");
    let dlq = resource(&tf, "aws_sqs_queue", "dlq");
    assert_eq!(text(attr(dlq, "name")), "${local.queue_prefix}${each.key}-dlq");
    assert!(bootstrap.contains(r#"--queue-name "${prefix}${q}-dlq""#), "bootstrap.sh names DLQs the same way");
    let number = |k: &str| match local(&tf, k) {
        Expression::Number(n) => n.to_string(),
        other => panic!("local.{k}: {other:?}"),
    };
    assert!(bootstrap.contains(&format!("max_receives={}", number("max_receives"))));
    assert!(bootstrap.contains(&format!(r#"\"VisibilityTimeout\":\"{}\""#, number("visibility_s"))));
    assert_eq!(text(local(&tf, "queue_prefix")), "${var.name_prefix}-");

    // The environment the functions get is exactly what the code reads.
    let mut given = BTreeSet::new();
    for name in ["environment", "api_only_environment"] {
        let Expression::Object(env) = local(&tf, name) else { panic!("local.{name} is an object") };
        given.extend(env.keys().map(|k| k.to_string()));
    }
    // Read as text (`var("…")`) or as a checked number (`number("…", range, …)`,
    // which rustfmt may break after the parenthesis).
    let read_by_code: BTreeSet<String> = ["var(", "number("]
        .iter()
        .flat_map(|call| handlers.split(call).skip(1))
        .filter_map(|s| s.trim_start().strip_prefix('"')?.split('"').next())
        .filter(|v| v.starts_with("STEPWISE_") && !v.ends_with("_ENDPOINT"))
        .map(str::to_string)
        .collect();
    assert_eq!(given, read_by_code, "Terraform sets the variables handlers.rs reads (endpoints are for local use)");
    let stack = read("localstack/stack");

    // The payload bucket: `<prefix>-payloads` (Terraform adds the account id,
    // since bucket names are global); the functions are told its name.
    let named = attr(resource(&tf, "aws_s3_bucket", "payloads"), "bucket");
    assert!(matches!(named, Expression::Traversal(t) if format!("{t:?}").contains("bucket_name")), "{named:?}");
    let bucket = text(local(&tf, "bucket_name"));
    assert!(bucket.starts_with("${var.name_prefix}-payloads"), "{bucket}");
    assert!(bootstrap.contains(r#"bucket="${4:-stepwise-payloads}""#), "bootstrap.sh's default bucket");
    assert!(stack.contains("bootstrap.sh\" \"$endpoint\" stepwise stepwise- stepwise-payloads"), "stack's names");
    assert!(stack.contains("STEPWISE_PAYLOAD_BUCKET=stepwise-payloads"), "stack tells the functions the bucket");
    for v in ["STEPWISE_TABLE", "STEPWISE_QUEUE_PREFIX", "STEPWISE_PAYLOAD_BUCKET"] {
        assert!(stack.contains(&format!("{v}=")), "localstack/stack sets {v}");
    }
}
