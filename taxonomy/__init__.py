"""K-AUT-style AI-risk taxonomy and taxonomy-driven safety data generation."""
