"""The answer engine: curated articles, passages, BM25 and dense retrieval, fusion, abstention, quotes.

No Discord here: every surface calls `retrieval.answer.answer()` and only formats its result.
"""
