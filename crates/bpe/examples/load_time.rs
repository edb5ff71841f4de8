fn main() {
    let path = std::env::args().nth(1).expect("tokenizer.json");
    let json = std::fs::read(&path).expect("read");
    let t = std::time::Instant::now();
    let v: serde_json::Value = serde_json::from_slice(&json).expect("json");
    println!("serde_json Value parse: {:?}", t.elapsed());
    drop(v);
    let t = std::time::Instant::now();
    let bpe = pricer_bpe::Bpe::from_tokenizer_json(&json).expect("load");
    println!("pricer-bpe load: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let tok = tokenizers::Tokenizer::from_bytes(&json).expect("load");
    println!("tokenizers load: {:?}", t.elapsed());
    drop((bpe, tok));
}
