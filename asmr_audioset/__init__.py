"""Google's YAMNet and what every model package builds on its AudioSet head.

`assets/` holds the real weights (TF-Hub's lite YAMNet and its class map, Apache-2.0, and the same weights
batched for the tag pass); `lite_yamnet` runs them on LiteRT without TensorFlow (per-window scores,
embeddings, AudioSet tags), `tag_net` and `log_mel` the tag pass's batched network and its numpy front end;
`abstain` is the "none of these" threshold any classifier's predictions can fall under.
"""
