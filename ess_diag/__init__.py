"""ESS Diag: diagnostic territorial partagé de l'économie sociale et solidaire.

The package never imports Streamlit: the app's pages compose what it computes.
"""

__version__ = "0.1.0"
