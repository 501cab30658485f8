"""The AWS step kinds (boto3), one module each: :mod:`~cockpit.steps.aws.rds` (a snapshot before
the deploy), :mod:`~cockpit.steps.aws.s3` (a sync of a build directory, planned by
:mod:`~cockpit.steps.aws.s3plan`), :mod:`~cockpit.steps.aws.cloudfront` (an invalidation) and
:mod:`~cockpit.steps.aws.ecs` (a service update). Every kind is safe to run again after an
interruption; each module says how. :mod:`~cockpit.steps.aws.client` holds what they share: the
cached boto3 client and the translation of botocore errors into one line.

This package imports neither boto3 nor the step modules (:data:`cockpit.steps.base.KINDS` names
them); it re-exports the client and the error translator, which the CloudWatch metrics source
uses too.
"""

from cockpit.steps.aws.client import aws_client as aws_client
from cockpit.steps.aws.client import aws_error as aws_error
