"""Claims, approvals and payments (issue 12; ADR 0031): a benefit the engine grants becomes a claim,
is checked and approved by someone other than its maker, paid once through a bank batch, and every
step is a claim event and an audit entry."""
