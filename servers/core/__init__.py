"""What every strategy shares: the contract, the HTTP layers, the work knobs, the registry."""
