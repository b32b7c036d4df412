"""Self-Instruct (Wang et al. 2022): bootstrapping instructions with an OpenAI-compatible LLM.

Modules: `llm` (client, cache, retries, budget), `prompts`, `parse`, `filters`, `novelty`
(exact fast ROUGE-L), `bootstrap` (the resumable loop), `output` (the run folder), `run`,
`generate` (generator kind `self_instruct_pool`), `embedded` (the SmolLM2 endpoint).
"""
