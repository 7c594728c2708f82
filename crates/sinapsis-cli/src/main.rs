//! `sinapsis`: train, evaluate and predict from a TOML file.

fn main() {
    println!("sinapsis: under construction");
}
