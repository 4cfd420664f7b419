from compliance_mia.cli import main

if __name__ == "__main__":  # pragma: no cover - thin shim for `python -m compliance_mia`
    main()
