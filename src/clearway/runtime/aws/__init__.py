"""Clearway on AWS Lambda: entry points (`handlers`), one execution environment per function
(`environment`) and Lambda Invoke as the way between functions (`invoke`). See docs/aws.md."""
