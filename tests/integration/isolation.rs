//! Property-based cross-tenant isolation (written by a helper).
