"""Stream processing for 12315 complaints: intake, faust agents, tallies in Redis."""
