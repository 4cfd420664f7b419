"""Membership inference for language models: was this text in the training corpus?

The same question as for tabular classifiers, asked of a causal language
model: the target scores texts token by token (or only generates text), the
attacks turn those token scores into one membership score per text, and the
statistics, risk, controls and report are the tabular ones. Heavy libraries
(torch, transformers) are imported only inside the functions that need them,
so light commands stay light.
"""
