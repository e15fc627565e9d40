"""Commands, options, output formats, exit codes. The only part that picks twin or kube."""
