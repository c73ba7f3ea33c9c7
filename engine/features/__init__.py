"""What users ask for, built on the runtime: explain, counterfactuals, charges, outline."""
