"""`openclaw status`: each host's health report, breakers, mode, budget use and last-check age,
read in one command per host; shown as tables per region, JSON, or an HTML page."""
