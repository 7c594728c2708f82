//! Tabular CSV loading: bad inputs give errors naming file, line, column and text; the real
//! scikit-learn files load with the counts from their README.

use std::path::PathBuf;

use sinapsis::data::tabular::{Header, Missing, TabularCsv, TabularEncoder, Task};

/// The real tabular folder: `$SINAPSIS_DATA_DIR/tabular` (CI sets it), else
/// `../shared/data/tabular` beside the repository.
fn data_dir() -> PathBuf {
    match std::env::var_os("SINAPSIS_DATA_DIR") {
        Some(d) => PathBuf::from(d).join("tabular"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tabular"),
    }
}

/// Writes `text` to a fresh file in a per-test temp folder and returns its path.
fn write(test: &str, name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sinapsis_tabular_{}_{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn err_msg(r: sinapsis::Result<impl std::fmt::Debug>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            assert!(matches!(e, sinapsis::Error::Data { .. }), "{e:?}");
            e.to_string()
        }
    }
}

#[test]
fn wrong_field_count_names_file_line_column() {
    let p = write("fields", "bad.csv", "a,b,y\n1,2,x\n3,4\n5,6,x\n");
    let m = err_msg(TabularCsv::new("y").load(&p));
    assert!(m.contains("bad.csv"), "{m}");
    assert!(m.contains("line 3"), "{m}");
    assert!(m.contains("column 3"), "{m}");
    assert!(m.contains("expected 3 fields"), "{m}");
    assert!(m.contains("'3,4'"), "{m}");
}

#[test]
fn non_numeric_value_names_file_line_column_text() {
    let p = write("nonnum", "nonnum.csv", "a,b,y\n1,2,x\n3,abc,z\n");
    let m = err_msg(TabularCsv::new("y").load(&p));
    assert!(m.contains("nonnum.csv"), "{m}");
    assert!(m.contains("line 3, column 2 ('b')"), "{m}");
    assert!(m.contains("'abc'"), "{m}");
    // Regression target that is not a number.
    let p = write("nonnum", "target.csv", "a,y\n1,2.5\n3,high\n");
    let m = err_msg(TabularCsv::new("y").task(Task::Regression).load(&p));
    assert!(
        m.contains("line 3, column 2 ('y')") && m.contains("'high'"),
        "{m}"
    );
}

#[test]
fn missing_value_without_strategy_is_an_error() {
    for token in ["", "NA", "NaN", "?"] {
        let p = write(
            "missing",
            "missing.csv",
            &format!("a,b,y\n1,2,x\n3,{token},z\n"),
        );
        let m = err_msg(TabularCsv::new("y").load(&p));
        assert!(m.contains("missing.csv"), "{m}");
        assert!(m.contains("line 3, column 2 ('b')"), "{m}");
        assert!(m.contains("missing value"), "{m}");
    }
    // A missing target is an error whatever the strategy.
    let p = write("missing", "target.csv", "a,y\n1,x\n2,NA\n");
    let m = err_msg(TabularCsv::new("y").missing(Missing::Mean).load(&p));
    assert!(
        m.contains("line 3, column 2 ('y')") && m.contains("missing target"),
        "{m}"
    );
}

#[test]
fn missing_value_strategies_fill_from_the_data() {
    let p = write("fill", "fill.csv", "a,y\n1,p\n?,p\n2,q\n6,q\n2,p\n");
    let fill = |m: Missing| -> f32 {
        let d = TabularCsv::new("y").missing(m).load(&p).unwrap();
        assert_eq!(d.len(), 5); // no row dropped
        d.features.to_vec::<f32>().unwrap()[1]
    };
    assert_eq!(fill(Missing::Mean), 11.0 / 4.0);
    assert_eq!(fill(Missing::Median), 2.0);
    assert_eq!(fill(Missing::MostFrequent), 2.0);
    assert_eq!(fill(Missing::Constant(-1.0)), -1.0);
}

#[test]
fn unknown_columns_list_the_available_ones() {
    let p = write("unknown", "u.csv", "a,b,y\n1,2,x\n");
    let m = err_msg(TabularCsv::new("target").load(&p));
    assert!(
        m.contains("u.csv") && m.contains("unknown target column 'target'"),
        "{m}"
    );
    assert!(m.contains("available columns: a, b, y"), "{m}");
    let m = err_msg(TabularCsv::new("y").features(["a", "c"]).load(&p));
    assert!(
        m.contains("unknown feature column 'c'") && m.contains("a, b, y"),
        "{m}"
    );
    let m = err_msg(TabularCsv::new("y").categorical(["zz"]).load(&p));
    assert!(m.contains("'zz'") && m.contains("a, b, y"), "{m}");
}

#[test]
fn categorical_one_hot_and_encoder_round_trip() {
    let train = write(
        "cat",
        "train.csv",
        "size,colour,label\n1,red,10\n2,blue,2\n3,red,10\n4,,2\n",
    );
    let d = TabularCsv::new("label")
        .categorical(["colour"])
        .missing(Missing::MostFrequent)
        .load(&train)
        .unwrap();
    assert_eq!(
        d.encoder.feature_names(),
        vec!["size", "colour=blue", "colour=red"]
    );
    assert_eq!(
        d.features.to_vec2::<f32>().unwrap(),
        vec![
            vec![1.0, 0.0, 1.0],
            vec![2.0, 1.0, 0.0],
            vec![3.0, 0.0, 1.0],
            vec![4.0, 0.0, 1.0], // missing -> most frequent "red"
        ]
    );
    // Numeric labels sort numerically: 2 -> 0, 10 -> 1.
    assert_eq!(d.encoder.classes().unwrap(), &["2", "10"]);
    assert_eq!(d.target.to_vec::<i64>().unwrap(), vec![1, 0, 1, 0]);

    // The encoder serialises; prediction data is encoded the same way.
    let json = serde_json::to_string(&d.encoder).unwrap();
    let enc: TabularEncoder = serde_json::from_str(&json).unwrap();
    assert_eq!(enc, d.encoder);
    let test = write("cat", "test.csv", "colour,size\nblue,7\n");
    assert_eq!(
        enc.load_features(&test).unwrap().to_vec::<f32>().unwrap(),
        vec![7.0, 1.0, 0.0]
    );
    let unseen = write("cat", "unseen.csv", "colour,size,label\ngreen,7,2\n");
    let m = err_msg(enc.load(&unseen));
    assert!(
        m.contains("line 2, column 1 ('colour')") && m.contains("'green'"),
        "{m}"
    );
}

#[test]
fn gzip_files_are_read() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("sinapsis_tabular_{}_gz", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("small.csv.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    e.write_all(b"x,y\n1.5,3\n2.5,4\n").unwrap();
    e.finish().unwrap();
    let d = TabularCsv::new("y")
        .task(Task::Regression)
        .load(&p)
        .unwrap();
    assert_eq!(d.features.to_vec::<f32>().unwrap(), vec![1.5, 2.5]);
    assert_eq!(d.target.to_vec::<f32>().unwrap(), vec![3.0, 4.0]);
}

#[test]
fn real_named_files() {
    let dir = data_dir();
    let bc = TabularCsv::new("diagnosis")
        .load(dir.join("breast_cancer_named.csv"))
        .unwrap();
    assert_eq!((bc.len(), bc.num_features()), (569, 30));
    assert_eq!(bc.encoder.classes().unwrap(), &["benign", "malignant"]);
    assert_eq!(bc.class_counts().unwrap(), vec![357, 212]);
    // sklearn's order with a fixed vocabulary.
    let bc = TabularCsv::new("diagnosis")
        .classes(["malignant", "benign"])
        .load(dir.join("breast_cancer_named.csv"))
        .unwrap();
    assert_eq!(bc.class_counts().unwrap(), vec![212, 357]);

    let iris = TabularCsv::new("species")
        .load(dir.join("iris_named.csv"))
        .unwrap();
    assert_eq!((iris.len(), iris.num_features()), (150, 4));
    assert_eq!(iris.class_counts().unwrap(), vec![50, 50, 50]);
    assert_eq!(
        iris.features.to_vec::<f32>().unwrap()[..4],
        [5.1, 3.5, 1.4, 0.2]
    );

    let wine = TabularCsv::new("cultivar")
        .load(dir.join("wine_named.csv"))
        .unwrap();
    assert_eq!((wine.len(), wine.num_features()), (178, 13));
    assert_eq!(wine.class_counts().unwrap(), vec![59, 71, 48]);

    // Chosen features only.
    let two = TabularCsv::new("species")
        .features(["petal_width", "sepal_length"])
        .load(dir.join("iris_named.csv"))
        .unwrap();
    assert_eq!(two.features.to_vec::<f32>().unwrap()[..2], [0.2, 5.1]);
}

#[test]
fn real_sklearn_format_files() {
    let dir = data_dir();
    let sk = TabularCsv::target_last().header(Header::Sklearn);
    let bc = sk.load(dir.join("breast_cancer.csv")).unwrap();
    assert_eq!((bc.len(), bc.num_features()), (569, 30));
    assert_eq!(bc.encoder.classes().unwrap(), &["malignant", "benign"]);
    assert_eq!(bc.class_counts().unwrap(), vec![212, 357]);
    let iris = sk.load(dir.join("iris.csv")).unwrap();
    assert_eq!((iris.len(), iris.num_features()), (150, 4));
    assert_eq!(iris.class_counts().unwrap(), vec![50, 50, 50]);
    let wine = sk.load(dir.join("wine_data.csv")).unwrap();
    assert_eq!((wine.len(), wine.num_features()), (178, 13));
    assert_eq!(wine.class_counts().unwrap(), vec![59, 71, 48]);

    let digits = TabularCsv::target_last()
        .header(Header::None)
        .load(dir.join("digits.csv.gz"))
        .unwrap();
    assert_eq!((digits.len(), digits.num_features()), (1797, 64));
    let counts = digits.class_counts().unwrap();
    assert_eq!(
        counts,
        vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    );
    let px = digits.features.to_vec::<f32>().unwrap();
    assert!(px.iter().all(|v| (0.0..=16.0).contains(v)));
}

/// Space-separated files (`delimiter(b' ')`: runs of spaces or tabs) with and without a
/// header: scikit-learn's diabetes and linnerud data.
#[test]
fn real_whitespace_separated_files() {
    let dir = data_dir();
    // diabetes: 10 raw columns, no header; regress the last one (s6) on the others.
    let diabetes = TabularCsv::target_last()
        .header(Header::None)
        .delimiter(b' ')
        .task(Task::Regression)
        .load(dir.join("diabetes_data_raw.csv.gz"))
        .unwrap();
    assert_eq!((diabetes.len(), diabetes.num_features()), (442, 9));
    let age = diabetes.features.to_vec::<f32>().unwrap()[0];
    assert_eq!(age, 59.0);
    assert_eq!(diabetes.target.to_vec::<f32>().unwrap()[0], 87.0);
    let linnerud = TabularCsv::new("Jumps")
        .delimiter(b' ')
        .task(Task::Regression)
        .load(dir.join("linnerud_exercise.csv"))
        .unwrap();
    assert_eq!((linnerud.len(), linnerud.num_features()), (20, 2));
    assert_eq!(linnerud.encoder.feature_names(), vec!["Chins", "Situps"]);
    // A row with a missing field is still an error naming the line.
    let p = write("ws", "bad.txt", "a b y\n1 2 3\n4  5\n");
    let msg = err_msg(TabularCsv::new("y").delimiter(b' ').load(&p));
    assert!(msg.contains("line 3"), "{msg}");
}
