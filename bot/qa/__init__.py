"""The answer model: a question and an index -> a short cited answer or an abstention.

question.py reads a question once; kinds.py registers the kinds of question with their
extractors; candidates.py and features.py describe every fitting span; scoring.py applies
the weights that train.py learns; answerer.py puts them together.
"""
