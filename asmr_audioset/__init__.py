"""Google's YAMNet and what every model package builds on its AudioSet head.

`assets/` holds the real weights (TF-Hub's lite YAMNet and its class map, Apache-2.0); `lite_yamnet` runs
them on LiteRT without TensorFlow (per-window scores, embeddings, AudioSet tags); `abstain` is the
"none of these" threshold any classifier's predictions can fall under.
"""
