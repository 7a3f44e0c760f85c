"""SLO and contract evaluation over slices: downtime episodes, exclusions, months, credits."""
