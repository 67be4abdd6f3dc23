"""Tags: labels a practice applies to its patients (and members), unique per owner."""
