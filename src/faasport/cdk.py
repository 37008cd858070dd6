"""``faasport.cdk.Faasport``: the project's AWS resources as a construct of your own CDK app.

```python
import aws_cdk as cdk
from faasport.cdk import Faasport

app = cdk.App()
stack = cdk.Stack(app, "shop-prod")
Faasport(stack, "Shop", project=".", stage="prod")
app.synth()
```

Needs the ``cdk`` extra (``pip install 'faasport[cdk]'``: aws-cdk-lib, and Node.js for it);
importing ``faasport`` itself never imports it.
"""

from faasport.deploy.aws.cdk import Faasport

__all__ = ["Faasport"]
