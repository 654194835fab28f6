"""The dispatch side (A1): campaigns, respondents, invitations, codes, opt-outs, closing."""
