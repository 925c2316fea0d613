"""Load tests: start servers, verify them against the contract, drive them, check them."""
