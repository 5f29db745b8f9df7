"""ewto: intake, validation and landing of coalition exports."""
