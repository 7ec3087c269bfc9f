"""Evaluation: test metrics (loss terms, ELBO, MSE, k-NN accuracy) and nearest-neighbour search.

Imports families (the models) and files (the `Split` of a dataset); never Streamlit.
"""
