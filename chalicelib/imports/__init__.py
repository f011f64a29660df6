"""Contact imports: S3 drops, multipart uploads and presigned uploads, one pipeline."""
