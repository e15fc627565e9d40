"""Generated protobuf/gRPC modules for Hubble's Observer API (see ``../generate.py``); do not edit."""
