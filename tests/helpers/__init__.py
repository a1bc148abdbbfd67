"""What several test modules share: one way to run vc-im, and the builders of each area."""
