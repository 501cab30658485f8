"""The ``kubernetes`` step kind and kubectl's rules, ported over the API's JSON (kubectl 1.32,
``staging/src/k8s.io/kubectl/pkg``), one job per module:

- :mod:`.rules`: kubectl's rollout verdict and ReplicaSet / revision rules (pure);
- :mod:`.api`: the client of one environment's cluster and the API calls a step makes;
- :mod:`.watch`: a rollout followed to its verdict;
- :mod:`.changes`: what a step would change now, and the diff a person reviews;
- :mod:`.configmaps`: the ConfigMaps captured before a change and put back by undo;
- :mod:`.planning`: a step's plan and the state before it, read before any write (a paused
  Deployment refused or resumed);
- :mod:`.undo`: ``kubectl rollout undo`` and ``kubectl rollout history``;
- :mod:`.step`: :class:`~cockpit.steps.kubernetes.step.KubernetesStep`, registered in
  :data:`cockpit.steps.base.KINDS`.

Importing the package never imports the ``kubernetes`` client: it is imported inside functions,
where a call is made.
"""

from __future__ import annotations

from cockpit.steps.kubernetes.api import KubeApi
from cockpit.steps.kubernetes.rules import selector_string

__all__ = ["KubeApi", "selector_string"]
