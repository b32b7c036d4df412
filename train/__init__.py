"""The TRL training stage: SFT on a built mixture (the only package that imports torch and trl).

`spec` (the recipe's `train:` section, pydantic only), `config` (-> `trl.SFTConfig`), `data`
(mixture folder -> `datasets`), `tiny` (tiny Llama + BPE tokenizer + ChatML template),
`smollm2` (GGUF -> plain checkpoint), `model` (base model resolution, LoRA), `preflight`
(checks before GPU time), `run` (`train_mixture`), `card` (model card). Importing this package
imports neither torch nor trl; the modules import them where they are used.
"""
