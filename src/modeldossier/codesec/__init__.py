"""Code-security differential: does the model write worse code for disfavored contexts?"""
