"""The JSON API of issues and picks (public reads) and of the curation workflow (curators, editors)."""
