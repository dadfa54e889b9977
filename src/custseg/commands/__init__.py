"""CLI subcommands beyond run/explore/choose-k, one module each; importing registers them."""
