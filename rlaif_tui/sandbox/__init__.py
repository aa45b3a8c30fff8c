"""Code that runs inside sandbox processes: the zygote, the child runtime, the trusted harness
and the value codec between them. Imports only the standard library and `rlaif_tui._reward`,
because the zygote pre-imports it all before any job arrives."""
