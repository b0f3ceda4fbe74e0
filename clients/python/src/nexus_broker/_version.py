# Hand-written. Kept equal to clients/VERSION (test/clients/versions.test.ts).
__version__ = "0.1.0"
