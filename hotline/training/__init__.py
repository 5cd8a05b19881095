"""Operators' training: the certification journal's settings and the quality scorecards' (the
pure rules live in `hotline.domain.certification` and `hotline.domain.scorecards`)."""
