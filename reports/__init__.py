"""Human-readable reports: audit reports, coverage reports, ethics-committee reviews."""
