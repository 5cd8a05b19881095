"""The quality loop's pure parts: sorting citizens' comments by theme (`themes`) and finding the
terms that rose (`trends`)."""
